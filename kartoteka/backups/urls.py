"""Web routes of backups (administrators only)."""

from django.urls import path

from kartoteka.backups import views

app_name = "backups"

urlpatterns = [
    path("", views.backup_list, name="list"),
    path("run/", views.backup_run_request, name="run"),
]
