"""Web routes of the finance app (full paths; included at the site root)."""

from django.urls import path

app_name = "finance"
urlpatterns: list = []
