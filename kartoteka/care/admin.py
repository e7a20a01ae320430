"""Read-only admin views of the care records: edits go through the services, which keep the
change log and the timeline in step. Health notes show their kind only, never the text, and
the admin does not even load it (care/health.py is the one reader)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet

from kartoteka.care.models import HealthAccessLog, HealthNote, Recommendation, SurveyResponse


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["taken_on", "name", "scale", "score", "client", "author"]
    list_filter = ["scale"]
    list_select_related = ["client", "author"]
    raw_id_fields = ["client", "author"]


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdmin):
    list_display = ["given_on", "__str__", "due_on", "period_days", "status", "client", "author"]
    list_filter = ["status"]
    list_select_related = ["client", "author"]
    raw_id_fields = ["client", "author"]


@admin.register(HealthNote)
class HealthNoteAdmin(ReadOnlyAdmin):
    list_display = ["kind", "client", "author", "updated_at"]
    list_filter = ["kind"]
    list_select_related = ["client", "author"]
    fields = ["client", "kind", "author", "created_at", "updated_at"]
    readonly_fields = fields

    def get_queryset(self, request: Any) -> QuerySet[HealthNote]:
        return super().get_queryset(request).defer("stored_text")


@admin.register(HealthAccessLog)
class HealthAccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "action", "channel", "client"]
    list_filter = ["action", "channel"]
    list_select_related = ["client", "user"]
