"""Web routes of the documents app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.documents import views

app_name = "documents"
urlpatterns = [
    path("clients/<int:client_pk>/documents/", views.client_documents, name="client-documents"),
    path("documents/<int:pk>/download/", views.document_download, name="download"),
    path("documents/<int:pk>/thumbnail/", views.document_thumbnail, name="thumbnail"),
    path("documents/<int:pk>/delete/", views.document_delete, name="delete"),
]
