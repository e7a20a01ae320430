"""Read-only admin views of the consent ledger and the erasures of health data: the ledger is
append-only and every entry goes through consent.services (change log, erasure schedule)."""

from typing import Any

from django.contrib import admin

from kartoteka.consent.models import ConsentEvent, HealthErasureSchedule


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["effective_at", "purpose", "action", "legal_basis", "text_version", "client"]
    list_filter = ["purpose", "action", "legal_basis", "channel"]
    list_select_related = ["client", "recorded_by"]
    raw_id_fields = ["client", "recorded_by", "document"]


@admin.register(HealthErasureSchedule)
class HealthErasureScheduleAdmin(ReadOnlyAdmin):
    list_display = ["due_at", "status", "notes_erased", "client"]
    list_filter = ["status"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "withdrawal"]
