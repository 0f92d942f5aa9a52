"""Back-office admin for accounts."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from linli.accounts.models import ApiToken, User


@admin.register(User)
class LinliUserAdmin(UserAdmin[User]):
    list_display = ["username", "display_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_superuser"]
    fieldsets = [
        *(UserAdmin.fieldsets or []),
        ("邻里", {"fields": ["role", "display_name"]}),
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "key_hash", "prefix", "created_at", "last_used_at"]
