"""Web routes of the care app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.care import views

app_name = "care"

CARD = "clients/<int:client_pk>/"

urlpatterns = [
    path(CARD + "care/", views.client_care, name="client-care"),
    path(CARD + "surveys/new/", views.survey_create, name="survey-create"),
    path(CARD + "surveys/<int:pk>/edit/", views.survey_edit, name="survey-edit"),
    path(CARD + "surveys/<int:pk>/delete/", views.survey_delete, name="survey-delete"),
    path(CARD + "recommendations/new/", views.recommendation_create, name="recommendation-create"),
    path(
        CARD + "recommendations/<int:pk>/edit/",
        views.recommendation_edit,
        name="recommendation-edit",
    ),
    path(
        CARD + "recommendations/<int:pk>/status/",
        views.recommendation_status,
        name="recommendation-status",
    ),
    path(
        CARD + "recommendations/<int:pk>/delete/",
        views.recommendation_delete,
        name="recommendation-delete",
    ),
    path(CARD + "health-notes/new/", views.health_note_create, name="health-note-create"),
    path(CARD + "health-notes/<int:pk>/edit/", views.health_note_edit, name="health-note-edit"),
    path(
        CARD + "health-notes/<int:pk>/delete/",
        views.health_note_delete,
        name="health-note-delete",
    ),
    path("recommendations/overdue/", views.recommendation_overdue, name="overdue"),
    path("recommendations/<int:pk>/status/", views.overdue_status, name="overdue-status"),
]
