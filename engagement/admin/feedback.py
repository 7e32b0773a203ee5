"""Admin of session feedback: read-only for staff; the comment only on a row's own page."""

# Feedback is read by its author and the couple's therapists. Staff read it as they read a
# check-in shared with the therapist: the items in the list, the comment only on the row's
# page (audited), never in a list, a search or a filter.

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from config.admin_base import ViewOnlyAdmin
from engagement.admin.audit import AuditedReadsMixin
from engagement.models import SessionFeedback
from engagement.models.feedback import FEEDBACK_ITEMS


@admin.register(SessionFeedback)
class SessionFeedbackAdmin(AuditedReadsMixin, ViewOnlyAdmin[SessionFeedback]):
    audit_object_type = "feedback"
    list_display = ("session", "partner", *FEEDBACK_ITEMS, "submitted_at")
    list_select_related = ("session", "partner")
    search_fields = ("partner__email", "partner__display_name", "session__couple__name")
    date_hierarchy = "submitted_at"
    fields = (
        "id",
        "session",
        "partner",
        *FEEDBACK_ITEMS,
        "comment",
        "submitted_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SessionFeedback]:
        return super().get_queryset(request).defer("comment")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if "comment" in lookup.split(LOOKUP_SEP):
            return False
        return super().lookup_allowed(lookup, value, request)
