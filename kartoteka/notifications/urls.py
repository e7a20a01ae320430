"""Web routes of the notifications app (included under /notifications/)."""

from django.urls import path

from kartoteka.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.notification_read_all, name="read-all"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("settings/", views.reminder_settings, name="settings"),
]
