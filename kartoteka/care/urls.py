"""Web routes of the care app (full paths; included at the site root)."""

from django.urls import path

app_name = "care"
urlpatterns: list = []
