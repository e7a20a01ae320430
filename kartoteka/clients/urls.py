from django.urls import path

from kartoteka.clients import printing, views

app_name = "clients"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("check-duplicates/", views.client_check_duplicates, name="check-duplicates"),
    path("company-options/", views.company_options, name="company-options"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/edit/", views.client_edit, name="edit"),
    path("<int:pk>/archive/", views.client_archive, name="archive"),
    path("<int:pk>/restore/", views.client_restore, name="restore"),
    path("<int:pk>/actualize/", views.client_actualize, name="actualize"),
    path("<int:pk>/timeline/", views.client_timeline, name="timeline"),
    path("<int:pk>/summary/", views.client_summary, name="summary"),
    path("<int:pk>/print/", printing.client_print, name="print"),
]
