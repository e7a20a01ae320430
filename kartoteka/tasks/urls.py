"""Web routes of the tasks app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.tasks import views

app_name = "tasks"
urlpatterns = [
    path("tasks/", views.today, name="today"),
    path("tasks/badge/", views.badge, name="badge"),
    path("tasks/new/", views.task_create, name="new"),
    path("tasks/calendar/", views.calendar_view, name="calendar"),
    path("tasks/<int:pk>/", views.task_edit, name="edit"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="complete"),
    path("tasks/<int:pk>/cancel/", views.task_cancel, name="cancel"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="reopen"),
    path("clients/<int:client_pk>/tasks/", views.client_tasks, name="client-tasks"),
    path("clients/<int:client_pk>/tasks/new/", views.client_task_create, name="client-task-create"),
]
