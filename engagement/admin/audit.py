"""The audit trail in the admin: staff reads of clinical pages recorded, and the logs to read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from typing import ClassVar
from uuid import UUID

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db.models import Model
from django.http import HttpRequest
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from config.admin_base import ViewOnlyAdmin
from config.admin_base import person_search_fields
from engagement.models import AuditEvent
from engagement.models.audit import audit_reads


def record_admin_reads(
    request: HttpRequest, *, action: str, object_type: str, objects: Iterable[Model]
) -> None:
    """A staff member read these objects in the admin: one AuditEvent per couple they belong
    to, as the API writes them (engagement/api/audit.py), in one INSERT."""
    by_couple: dict[UUID | None, list[str]] = defaultdict(list)
    for obj in objects:
        by_couple[getattr(obj, "couple_id", None)].append(str(obj.pk))
    audit_reads(
        actor=request.user if request.user.is_authenticated else None,
        channel=AuditEvent.Channel.ADMIN,
        action=action,
        object_type=object_type,
        ids_by_couple=by_couple,
    )


class AuditedReadsMixin:
    """Every rendered change page of this model, and every changelist page unless
    `audit_lists` is off, is audited (`<type>.view`, `<type>.list`): staff see clinical
    data, and who looked at whose is kept."""

    audit_object_type: ClassVar[str]
    audit_lists: ClassVar[bool] = True

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        # Only a page that showed the object: a missing id redirects, a refusal is a 403.
        if isinstance(response, TemplateResponse) and response.status_code == 200:
            shown = (response.context_data or {}).get("original")
            if isinstance(shown, Model):
                record_admin_reads(
                    request,
                    action=f"{self.audit_object_type}.view",
                    object_type=self.audit_object_type,
                    objects=[shown],
                )
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        if self.audit_lists and isinstance(response, TemplateResponse):
            changelist = (response.context_data or {}).get("cl")
            record_admin_reads(
                request,
                action=f"{self.audit_object_type}.list",
                object_type=self.audit_object_type,
                objects=getattr(changelist, "result_list", []),
            )
        return response


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin[AuditEvent]):
    """Who read what, when: never changed or deleted from the admin, not even by a superuser."""

    list_display = ("at", "actor", "channel", "action", "object_type", "objects", "couple")
    list_filter = ("channel", "action", "object_type")
    list_select_related = ("actor",)
    autocomplete_fields = ("actor",)
    search_fields = (*person_search_fields("actor"), "action", "request_id")
    date_hierarchy = "at"
    fields = (
        "id",
        "at",
        "actor",
        "channel",
        "action",
        "object_type",
        "object_ids",
        "couple",
        "request_id",
    )

    @admin.display(description="objects")
    def objects(self, event: AuditEvent) -> str:
        ids = event.object_ids or []
        if len(ids) == 1:
            return str(ids[0])
        return f"{len(ids)} objects"

    @admin.display(description="couple", ordering="couple_id")
    def couple(self, event: AuditEvent) -> str:
        if event.couple_id is None:
            return "-"
        url = reverse("admin:engagement_couple_change", args=[event.couple_id])
        return format_html('<a href="{}">{}</a>', url, event.couple_id)


@admin.register(LogEntry)
class LogEntryAdmin(ViewOnlyAdmin[LogEntry]):
    """Changes made through the admin (Django's own log), to read; it records names of changed
    fields and object labels, never a check-in's note."""

    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag", "change")
    list_filter = ("action_flag", "content_type")
    list_select_related = ("user", "content_type")
    search_fields = ("user__email", "object_repr", "object_id")
    date_hierarchy = "action_time"
    fields = (
        "action_time",
        "user",
        "content_type",
        "object_id",
        "object_repr",
        "action_flag",
        "change",
    )

    @admin.display(description="change")
    def change(self, entry: LogEntry) -> str:
        return entry.get_change_message()
