"""Web routes of the duplicates app (under /duplicates/)."""

from django.urls import path

from kartoteka.dedupe import views

app_name = "dedupe"
urlpatterns = [
    path("", views.candidate_list, name="list"),
    path("scan/", views.scan_start, name="scan"),
    path("<int:pk>/dismiss/", views.candidate_dismiss, name="dismiss"),
    path("merge/", views.merge_form, name="merge"),
    path("merges/<int:pk>/", views.merge_detail, name="merge-detail"),
    path("similar/<int:pk>/", views.similar_for_card, name="similar"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge-undo"),
]
