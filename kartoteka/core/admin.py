from django.contrib import admin

from kartoteka.core.models import ObjectChange, Tag


@admin.register(ObjectChange)
class ObjectChangeAdmin(admin.ModelAdmin):
    """Read-only: the change log is written by services only."""

    list_display = ["timestamp", "action", "object_repr", "actor", "channel"]
    list_filter = ["action", "channel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(Tag)
