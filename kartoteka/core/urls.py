"""Web routes of the core app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.core import views

app_name = "core"
urlpatterns = [
    path("settings/", views.site_settings, name="settings"),
]
