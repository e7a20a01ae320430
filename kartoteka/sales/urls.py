"""Web routes of the sales app (full paths; included at the site root)."""

from django.urls import path

app_name = "sales"
urlpatterns: list = []
