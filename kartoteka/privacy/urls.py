from django.urls import path

from kartoteka.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_new, name="new"),
    path("requests/<int:pk>/", views.request_detail, name="detail"),
    path("requests/<int:pk>/start/", views.request_start, name="start"),
    path("requests/<int:pk>/extend/", views.request_extend, name="extend"),
    path("requests/<int:pk>/complete/", views.request_complete, name="complete"),
    path("requests/<int:pk>/refuse/", views.request_refuse, name="refuse"),
    path("requests/<int:pk>/export/", views.request_export, name="export"),
    path("requests/<int:pk>/erase/", views.request_erase, name="erase"),
    path("retention/", views.retention_list, name="retention"),
    path("retention/<int:pk>/keep/", views.retention_keep, name="retention-keep"),
    path("retention/<int:pk>/erase/", views.retention_erase, name="retention-erase"),
]
