"""Admin of goals: the history, read-only for staff; a note only on a row's own page."""

from __future__ import annotations

from django.contrib import admin

from config.admin_base import ViewOnlyAdmin
from config.admin_base import person_search_fields
from engagement.admin.audit import AuditedReadsMixin
from engagement.admin.withheld import OwnPageTextAdmin
from engagement.models import Goal


@admin.register(Goal)
class GoalAdmin(AuditedReadsMixin, OwnPageTextAdmin[Goal], ViewOnlyAdmin[Goal]):
    audit_object_type = "goal"
    own_page_text = "note"
    list_display = ("set_at", "couple", "partner", "goal")
    list_filter = ("goal",)
    list_select_related = ("couple", "partner")
    search_fields = ("couple__name", *person_search_fields("partner"))
    date_hierarchy = "set_at"
    fields = ("id", "couple", "partner", "goal", "note", "set_at")
    readonly_fields = fields
