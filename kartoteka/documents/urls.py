"""Web routes of the documents app (full paths; included at the site root)."""

from django.urls import path

app_name = "documents"
urlpatterns: list = []
