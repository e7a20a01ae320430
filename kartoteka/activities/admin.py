"""Read-only admin views of interactions and timeline lines: edits go through the services
(which keep the change log and the timeline in step), never through the admin."""

from typing import Any

from django.contrib import admin

from kartoteka.activities.models import Interaction, TimelineEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "direction", "subject", "client", "author", "is_deleted"]
    list_filter = ["kind", "is_deleted"]
    list_select_related = ["client", "author"]
    raw_id_fields = ["client", "contact_person", "author"]


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "subkind", "title", "client"]
    list_filter = ["kind"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "author"]
