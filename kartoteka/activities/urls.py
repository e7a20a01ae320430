"""Web routes of the activities app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.activities import views

app_name = "activities"
urlpatterns = [
    path(
        "clients/<int:client_pk>/interactions/",
        views.client_interactions,
        name="client-interactions",
    ),
    path(
        "clients/<int:client_pk>/interactions/new/",
        views.interaction_create,
        name="interaction-create",
    ),
    path(
        "clients/<int:client_pk>/interactions/<int:pk>/edit/",
        views.interaction_edit,
        name="interaction-edit",
    ),
    path(
        "clients/<int:client_pk>/interactions/<int:pk>/delete/",
        views.interaction_delete,
        name="interaction-delete",
    ),
]
