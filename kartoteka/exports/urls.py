"""Web routes of exports and saved searches."""

from django.urls import path

from kartoteka.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.export_list, name="list"),
    path("new/", views.export_new, name="new"),
    path("<uuid:public_id>/", views.export_detail, name="detail"),
    path("<uuid:public_id>/download/", views.export_download, name="download"),
    path("searches/", views.saved_search_create, name="search-create"),
    path("searches/<int:pk>/delete/", views.saved_search_delete, name="search-delete"),
]
