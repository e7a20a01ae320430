"""Read-only admin views of the catalogue, orders and services rendered: edits go through the
services (which compute totals and keep the change log and the timeline in step)."""

from typing import Any

from django.contrib import admin

from kartoteka.sales.models import Order, OrderLine, Product, ServiceRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "price", "currency", "unit", "vat_rate", "is_active"]
    list_filter = ["kind", "is_active", "currency"]
    search_fields = ["name"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    raw_id_fields = ["product"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "ordered_on", "client", "status", "total", "currency", "total_base"]
    list_filter = ["status", "currency"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "responsible"]
    search_fields = ["=number"]
    inlines = [OrderLineInline]


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ["performed_at", "name", "client", "performer", "rating"]
    list_select_related = ["client", "performer"]
    raw_id_fields = ["client", "product", "performer", "order", "before_photo", "after_photo"]
