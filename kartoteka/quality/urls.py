"""Web routes of data quality."""

from django.urls import path

from kartoteka.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.attention, name="attention"),
    path("cards/<int:client_pk>/", views.card_panel, name="card"),
    path("normalise/", views.normalise_view, name="normalise"),
    path("normalise/<int:pk>/", views.normalise_run, name="normalise-run"),
    path("normalise/<int:pk>/undo/", views.normalise_undo, name="normalise-undo"),
]
