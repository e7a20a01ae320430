"""Web routes of the plans app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.plans import views

app_name = "plans"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/people/<int:pk>/", views.person_detail, name="person"),
    path("dashboard/people/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("plans/", views.plan_list, name="plan-list"),
    path("plans/new/", views.plan_create, name="plan-create"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/delete/", views.plan_delete, name="plan-delete"),
]
