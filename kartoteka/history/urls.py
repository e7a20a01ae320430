"""Web routes of the card history (full paths; included at the site root)."""

from django.urls import path

from kartoteka.history import views

app_name = "history"

CARD = "clients/<int:client_pk>/"

urlpatterns = [
    path(CARD + "history/", views.client_history, name="client_history"),
    path(
        CARD + "history/<int:change_pk>/restore/",
        views.history_restore,
        name="restore",
    ),
]
