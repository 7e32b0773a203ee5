"""Admin of session feedback: read-only for staff; the comment only on a row's own page."""

# Feedback is read by its author and the couple's therapists. Staff read it as they read a
# check-in shared with the therapist: the items in the list, the comment only on the row's
# page (audited), never in a list, a search or a filter.

from __future__ import annotations

from django.contrib import admin

from config.admin_base import ViewOnlyAdmin
from config.admin_base import person_search_fields
from engagement.admin.audit import AuditedReadsMixin
from engagement.admin.withheld import OwnPageTextAdmin
from engagement.models import SessionFeedback
from engagement.models.feedback import FEEDBACK_ITEMS


@admin.register(SessionFeedback)
class SessionFeedbackAdmin(
    AuditedReadsMixin, OwnPageTextAdmin[SessionFeedback], ViewOnlyAdmin[SessionFeedback]
):
    audit_object_type = "feedback"
    own_page_text = "comment"
    list_display = ("session", "partner", *FEEDBACK_ITEMS, "submitted_at")
    list_select_related = ("session", "partner")
    search_fields = (*person_search_fields("partner"), "session__couple__name")
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
