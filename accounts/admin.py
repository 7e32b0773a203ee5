"""A basic admin for users: who they are, their role and whether their email is confirmed."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "display_name", "is_therapist", "is_staff", "verified")
    list_filter = ("is_therapist", "is_staff", "is_active")
    search_fields = ("email", "display_name")
    ordering = ("-date_joined",)
    # The password hash and the token generation are never edited by hand.
    fields = (
        "id",
        "email",
        "display_name",
        "is_therapist",
        "is_active",
        "is_staff",
        "timezone",
        "weekly_digest",
        "digest_detail",
        "digest_weekday",
        "digest_hour",
        "email_verified_at",
        "date_joined",
        "last_login",
        "erased_at",
    )
    readonly_fields = ("id", "email_verified_at", "date_joined", "last_login", "erased_at")

    @admin.display(boolean=True, description="verified")
    def verified(self, user: User) -> bool:
        return user.is_email_verified
