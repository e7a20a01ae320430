"""Web routes of the activities app (full paths; included at the site root)."""

from django.urls import path

app_name = "activities"
urlpatterns: list = []
