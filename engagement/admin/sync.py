"""Admin of the sync records: removals for mobile clients and idempotency keys, read-only."""

from __future__ import annotations

from django.contrib import admin

from config.admin_base import ViewOnlyAdmin
from config.admin_base import person_search_fields
from engagement.models import IdempotencyRecord
from engagement.models import Removal


@admin.register(Removal)
class RemovalAdmin(ViewOnlyAdmin[Removal]):
    list_display = ("removed_at", "user", "type", "object_id")
    list_filter = ("type",)
    list_select_related = ("user",)
    search_fields = person_search_fields("user")
    date_hierarchy = "removed_at"
    autocomplete_fields = ("user",)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ViewOnlyAdmin[IdempotencyRecord]):
    # The stored answers hold no secret: an invitation's token is redacted before it is kept.
    list_display = ("created_at", "user", "method", "path", "key", "response_status")
    list_filter = ("method", "response_status")
    list_select_related = ("user",)
    search_fields = ("user__email", "path", "key")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
