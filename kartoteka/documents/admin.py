from django.contrib import admin

from kartoteka.documents.models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Read-only: files arrive through the upload pipeline (documents.services) only, and are
    served by documents.views, never by a link to storage."""

    list_display = [
        "pk",
        "client",
        "kind",
        "number",
        "title",
        "content_type",
        "size",
        "uploaded_at",
        "is_deleted",
    ]
    list_filter = ["kind", "is_deleted"]
    list_select_related = ["client"]
    search_fields = ["title", "number", "original_name"]
    exclude = ["file", "thumbnail"]
    raw_id_fields = ["client", "order", "uploaded_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
