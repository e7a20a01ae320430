"""Web routes of the sales app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.sales import views

app_name = "sales"
urlpatterns = [
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("catalogue/<int:pk>/deactivate/", views.product_deactivate, name="product-deactivate"),
    path("clients/<int:client_pk>/orders/", views.client_orders, name="client-orders"),
    path("clients/<int:client_pk>/orders/form/", views.order_form, name="order-form"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/form/", views.order_edit_form, name="order-edit-form"),
    path("orders/<int:pk>/status/", views.order_status, name="order-status"),
    path("clients/<int:client_pk>/services/", views.client_services, name="client-services"),
    path("services/<int:pk>/edit/", views.service_edit, name="service-edit"),
    path("services/<int:pk>/delete/", views.service_delete, name="service-delete"),
]
