"""Admin of goals: the history, read-only for staff; a note only on a row's own page."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from config.admin_base import ViewOnlyAdmin
from engagement.admin.audit import AuditedReadsMixin
from engagement.models import Goal


@admin.register(Goal)
class GoalAdmin(AuditedReadsMixin, ViewOnlyAdmin[Goal]):
    audit_object_type = "goal"
    list_display = ("set_at", "couple", "partner", "goal")
    list_filter = ("goal",)
    list_select_related = ("couple", "partner")
    search_fields = ("couple__name", "partner__email", "partner__display_name")
    date_hierarchy = "set_at"
    fields = ("id", "couple", "partner", "goal", "note", "set_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Goal]:
        return super().get_queryset(request).defer("note")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if "note" in lookup.split(LOOKUP_SEP):
            return False
        return super().lookup_allowed(lookup, value, request)
