"""Admin of therapy sessions and attendance: read-only, audited; deleted through the service."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin_base import ViewOnlyAdmin
from config.admin_base import ViewOnlyTabularInline
from config.admin_base import person_search_fields
from engagement.admin.audit import AuditedReadsMixin
from engagement.admin.deletion import DeletedThroughServiceAdmin
from engagement.models import Attendance
from engagement.models import Couple
from engagement.models import TherapySession
from engagement.services.sessions import session_delete


class AttendanceInline(ViewOnlyTabularInline[Attendance, TherapySession]):
    """Recorded by the therapist in the app (attendance_record checks who is expected and marks
    the week's report stale); shown here as it is."""

    model = Attendance
    fields = ("partner", "status", "participation", "recorded_at")
    autocomplete_fields = ("partner",)
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attendance]:
        return super().get_queryset(request).select_related("partner")


@admin.register(TherapySession)
class TherapySessionAdmin(AuditedReadsMixin, DeletedThroughServiceAdmin[TherapySession]):
    # Therapist notes are shown to staff (SPEC section 1 withholds only private check-ins),
    # read-only, on the session's own page: never in the list nor searchable, and every page
    # view is recorded in the audit log ("session.view").
    audit_object_type = "session"
    audit_lists = False
    list_display = ("starts_at", "couple", "kind", "focus_partner", "status", "duration_minutes")
    list_filter = ("status", "kind")
    list_select_related = ("couple", "focus_partner")
    search_fields = ("couple__name", *person_search_fields("focus_partner"))
    date_hierarchy = "starts_at"
    autocomplete_fields = ("couple", "focus_partner", "created_by")
    inlines = (AttendanceInline,)
    change_form_template = "admin/engagement/change_form_read_only_inlines.html"
    fields = (*TherapySession.SHOWN_FIELDS, "created_by", "created_at", "updated_at")

    def delete_through_service(self, obj: TherapySession) -> None:
        session_delete(session=obj)


@admin.register(Attendance)
class AttendanceAdmin(ViewOnlyAdmin[Attendance]):
    list_display = ("session", "couple", "partner", "status", "participation", "recorded_at")
    list_filter = ("status", "participation")
    list_select_related = ("session__couple", "partner")
    search_fields = (*person_search_fields("partner"), "session__couple__name")
    date_hierarchy = "recorded_at"
    autocomplete_fields = ("session", "partner")

    @admin.display(description="couple", ordering="session__couple__name")
    def couple(self, attendance: Attendance) -> Couple:
        return attendance.session.couple
