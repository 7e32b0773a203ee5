"""Admin of away periods: read-only for staff (edits go through their author's app, so the
stale marks and removals they owe are written)."""

from __future__ import annotations

from django.contrib import admin

from config.admin_base import ViewOnlyAdmin
from config.admin_base import person_search_fields
from engagement.admin.audit import AuditedReadsMixin
from engagement.models import AwayPeriod


@admin.register(AwayPeriod)
class AwayPeriodAdmin(AuditedReadsMixin, ViewOnlyAdmin[AwayPeriod]):
    audit_object_type = "away"
    list_display = ("starts_on", "ends_on", "couple", "partner", "reason", "visibility")
    list_filter = ("visibility", "reason")
    list_select_related = ("couple", "partner")
    search_fields = ("couple__name", *person_search_fields("partner"))
    date_hierarchy = "starts_on"
    fields = (
        "id",
        "couple",
        "partner",
        "starts_on",
        "ends_on",
        "reason",
        "visibility",
        "created_at",
        "updated_at",
        "shared_at",
    )
    readonly_fields = fields
