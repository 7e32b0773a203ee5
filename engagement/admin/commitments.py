"""Admin of commitments: promises and homework, read-only (they change through the app)."""

from __future__ import annotations

from django.contrib import admin

from config.admin_base import ViewOnlyAdmin
from config.admin_base import person_search_fields
from engagement.models import Commitment


@admin.register(Commitment)
class CommitmentAdmin(ViewOnlyAdmin[Commitment]):
    list_display = ("title", "couple", "owner", "due_on", "status", "visibility", "resolved_at")
    list_filter = ("status", "visibility")
    list_select_related = ("couple", "owner")
    search_fields = ("title", "couple__name", *person_search_fields("owner"))
    date_hierarchy = "due_on"
    autocomplete_fields = ("couple", "owner", "created_by", "renewed_from")
    fields = Commitment.SHOWN_FIELDS
