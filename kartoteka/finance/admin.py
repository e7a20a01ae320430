"""Read-only admin views of invoices and payments: edits go through the services (which
check the unpaid rest and keep the change log and the timeline in step)."""

from typing import Any

from django.contrib import admin

from kartoteka.finance.models import Invoice, Payment


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "issued_on", "due_on", "client", "amount", "currency", "status"]
    list_filter = ["status", "currency"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "order", "created_by"]
    search_fields = ["number"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["paid_on", "client", "amount", "currency", "method", "invoice"]
    list_filter = ["method", "currency"]
    list_select_related = ["client", "invoice"]
    raw_id_fields = ["client", "invoice", "created_by"]
