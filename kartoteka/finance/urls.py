"""Web routes of the finance app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.finance import views

app_name = "finance"
urlpatterns = [
    path("clients/<int:client_pk>/money/", views.client_money, name="client-money"),
    path("clients/<int:client_pk>/invoices/", views.invoice_create, name="invoice-create"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice-edit"),
    path("invoices/<int:pk>/cancel/", views.invoice_cancel, name="invoice-cancel"),
    path("clients/<int:client_pk>/payments/", views.payment_create, name="payment-create"),
    path("payments/<int:pk>/delete/", views.payment_delete, name="payment-delete"),
]
