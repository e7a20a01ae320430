from django.urls import path

from kartoteka.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/resume/", views.import_resume, name="resume"),
    path("<int:pk>/undo/", views.import_undo, name="undo"),
    path("<int:pk>/rollback/", views.import_rollback, name="rollback"),
]
