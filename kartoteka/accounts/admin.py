from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from kartoteka.accounts.models import ApiToken, SignInEvent, SignInThrottle, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "teams"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Kartoteka", {"fields": ["role", "teams", "language"]}))


admin.site.register(Team)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "prefix",
        "scope",
        "expires_at",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["key_hash", "prefix"]


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    """Read-only: the events are an append-only record."""

    list_display = ["created_at", "kind", "username", "ip", "actor"]
    list_filter = ["kind"]
    search_fields = ["username", "ip"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SignInThrottle)
class SignInThrottleAdmin(admin.ModelAdmin):
    list_display = ["scope", "value", "failures", "lockouts", "locked_until"]
    readonly_fields = ["scope", "value", "failures", "lockouts", "last_failure_at", "locked_until"]
