"""Admin of the digest ledger: read-only; failed digests sent again when staff confirm it."""

# A failed row is either one the mail server refused, or one whose outcome is unknown (the
# server may have taken it before the worker died). docs/operations.md, "Exactly once": the
# second kind is never resent automatically, since a digest is never sent twice; a person
# checks the mail server's log for its Message-ID first. So the action asks for confirmation
# on a page that lists the rows and warns about those, and only then resets them.

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.contrib import admin
from django.contrib import messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from config.admin_base import person_search_fields
from engagement.admin.ledger import LedgerAdmin
from engagement.admin.ledger import ledger_fields
from engagement.models import DigestDelivery

Status = DigestDelivery.Status
OUTCOME_UNKNOWN_PREFIX = "outcome unknown"


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(LedgerAdmin[DigestDelivery]):
    list_display = (
        "week_start",
        "recipient",
        "kind",
        "status",
        "attempts",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "kind")
    list_select_related = ("user",)
    search_fields = (*person_search_fields("user"), "message_id")
    date_hierarchy = "week_start"
    autocomplete_fields = ("user",)
    fields = ledger_fields(
        "user",
        "kind",
        "week_start",
        retries=("attempts", "next_attempt_at"),
        outcome=("message_id",),
    )
    actions = ("resend_failed",)

    @admin.display(description="recipient", ordering="user__email")
    def recipient(self, row: DigestDelivery) -> str:
        return row.user.email

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("engagement.change_digestdelivery")

    @admin.action(description="Send the selected failed digests again", permissions=["resend"])
    def resend_failed(
        self, request: HttpRequest, queryset: QuerySet[DigestDelivery]
    ) -> TemplateResponse | None:
        failed = list(queryset.filter(status=Status.FAILED).select_related("user"))
        passed_over = queryset.exclude(status=Status.FAILED).count()
        if not failed:
            self.message_user(
                request,
                "Only failed digests can be sent again; none of the selected ones failed.",
                messages.WARNING,
            )
            return None
        if request.POST.get("post") != "yes":
            return self._confirmation(request, failed, passed_over)
        reset = self._reset(request, [row.pk for row in failed])
        self.message_user(
            request,
            f"{len(reset)} digest(s) set back to pending and queued to be sent again.",
            messages.SUCCESS,
        )
        if passed_over or len(reset) < len(failed):
            self.message_user(
                request,
                f"{passed_over + len(failed) - len(reset)} left as they were: only failed "
                "digests are sent again (a sent one never is).",
                messages.INFO,
            )
        return None

    def _confirmation(
        self, request: HttpRequest, failed: list[DigestDelivery], passed_over: int
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Send failed digests again?",
            "opts": self.model._meta,
            "rows": [(row, row.error.startswith(OUTCOME_UNKNOWN_PREFIX)) for row in failed],
            "passed_over": passed_over,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "resend_failed",
        }
        return TemplateResponse(
            request, "admin/engagement/digestdelivery/resend_confirmation.html", context
        )

    @transaction.atomic
    def _reset(self, request: HttpRequest, ids: list[object]) -> list[DigestDelivery]:
        """Back to pending, attempts 0, due now; then the send task for their users and weeks.

        The UPDATE matches failed rows only: a row a worker sent meanwhile stays sent. The
        Message-ID is kept, so a copy that did arrive after all is the same message to mail
        clients that deduplicate."""
        rows = list(
            DigestDelivery.objects.select_for_update().filter(pk__in=ids, status=Status.FAILED)
        )
        now = timezone.now()
        DigestDelivery.objects.filter(pk__in=[r.pk for r in rows], status=Status.FAILED).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            claim_token=None,
            claimed_at=None,
            error="",
            updated_at=now,
        )
        for row in rows:
            self.log_change(
                request,
                row,
                f"Set back to pending to be sent again (was failed after {row.attempts} "
                f"attempt(s): {row.error[:200]})",
            )
        weeks: dict[date, list[str]] = defaultdict(list)
        for row in rows:
            weeks[row.week_start].append(str(row.user_id))
        transaction.on_commit(lambda: _queue_sends(weeks))
        return rows


def _queue_sends(weeks: dict[date, list[str]]) -> None:
    """The digests task for those users and weeks, now, whatever their send times (like
    `send_digests --week`); it claims each row first, so nothing already sent goes again."""
    # Imported here: the admin loads the mail stack only when staff send something.
    from engagement.digests.tasks import send_digest_chunk

    for week_start, user_ids in sorted(weeks.items()):
        send_digest_chunk.delay(sorted(set(user_ids)), week_start.isoformat(), False)
