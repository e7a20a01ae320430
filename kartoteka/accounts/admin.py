from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from kartoteka.accounts.models import ApiToken, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "teams"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Kartoteka", {"fields": ["role", "teams", "language"]}))


admin.site.register(Team)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix"]
