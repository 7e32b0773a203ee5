"""Failed digests sent again from the admin: confirmed first, reset, queued; a sent one never."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.test import Client
from django.utils import timezone

from engagement.digests import tasks
from engagement.models import DigestDelivery
from engagement.reports.weeks import last_completed_week
from tests.admin.report_rows import MONDAY
from tests.admin.report_rows import store_report
from tests.factories import UserFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

LIST = "/admin/engagement/digestdelivery/"
UNKNOWN = "outcome unknown: ConnectionResetError(104). The server may have accepted it"


def _row(status: str, **fields: Any) -> DigestDelivery:
    return DigestDelivery.objects.create(
        user=UserFactory.create(),
        kind="partner",
        week_start=MONDAY,
        status=status,
        message_id=f"<{status}-{DigestDelivery.objects.count()}@duet.local>",
        **fields,
    )


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.send_digest_chunk, "delay", lambda *args: calls.append(args))
    return calls


def _resend(client: Client, *rows: DigestDelivery, confirm: bool) -> Any:
    data: dict[str, Any] = {
        "action": "resend_failed",
        "_selected_action": [str(r.pk) for r in rows],
    }
    if confirm:
        data["post"] = "yes"
    return client.post(LIST, data, follow=True)


def test_resending_asks_first_and_warns_about_an_unknown_outcome(
    staff_client: Client, queued: list[tuple[Any, ...]]
) -> None:
    failed = _row("failed", attempts=1, error=UNKNOWN)

    response = _resend(staff_client, failed, confirm=False)

    page = response.content.decode()
    assert "Send failed digests again?" in page
    assert failed.message_id.strip("<>") in page
    assert "Outcome unknown: the mail server may have accepted it" in page
    failed.refresh_from_db()
    assert failed.status == "failed"
    assert queued == []


def test_a_confirmed_resend_resets_the_row_and_queues_its_send(
    staff_client: Client,
    queued: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    failed = _row("failed", attempts=5, error="refused (550): mailbox full")
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        response = _resend(staff_client, failed, confirm=True)

    failed.refresh_from_db()
    assert failed.status == "pending"
    assert failed.attempts == 0
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at >= before
    assert failed.claim_token is None
    assert failed.message_id.startswith("<failed-")  # the same Message-ID goes again
    assert queued == [([str(failed.user_id)], MONDAY.isoformat(), False)]
    assert "1 digest(s) set back to pending" in " ".join(
        str(m) for m in response.context["messages"]
    )
    entry = LogEntry.objects.get(object_id=str(failed.pk))
    assert "mailbox full" in entry.get_change_message()


@pytest.mark.parametrize("status", ["sent", "pending", "claimed", "skipped"])
def test_only_failed_digests_are_sent_again(
    staff_client: Client,
    queued: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Callable[..., Any],
    status: str,
) -> None:
    other = _row(status, attempts=1, sent_at=timezone.now() if status == "sent" else None)

    with django_capture_on_commit_callbacks(execute=True):
        response = _resend(staff_client, other, confirm=True)

    other.refresh_from_db()
    assert other.status == status
    assert other.attempts == 1
    assert queued == []
    assert "Only failed digests can be sent again" in " ".join(
        str(m) for m in response.context["messages"]
    )


def test_a_mixed_selection_resends_the_failed_rows_only(
    staff_client: Client,
    queued: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    sent = _row("sent", attempts=1, sent_at=timezone.now())
    failed = _row("failed", attempts=2, error="refused (451)")

    with django_capture_on_commit_callbacks(execute=True):
        _resend(staff_client, sent, failed, confirm=True)

    sent.refresh_from_db()
    failed.refresh_from_db()
    assert (sent.status, failed.status) == ("sent", "pending")
    assert queued == [([str(failed.user_id)], MONDAY.isoformat(), False)]


def test_the_ledger_is_read_only(staff_client: Client) -> None:
    row = _row("failed", attempts=1, error="refused (451)")

    assert staff_client.get(f"{LIST}add/").status_code == 403
    assert staff_client.get(f"{LIST}{row.pk}/delete/").status_code == 403
    assert 'name="_save"' not in staff_client.get(f"{LIST}{row.pk}/change/").content.decode()


def test_a_resent_digest_goes_out_once_and_is_not_sent_again(
    staff_client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    week = last_completed_week("UTC", timezone.now())
    couple, p1, p2, therapist = make_couple(created_at=timezone.now() - dt.timedelta(weeks=3))
    assert therapist is not None
    store_report(couple, week, [(p1, 80.0), (p2, 30.0)], balance="one_sided", gap=50.0)
    failed = DigestDelivery.objects.create(
        user=therapist,
        kind="therapist",
        week_start=week,
        status="failed",
        attempts=5,
        error="refused (550): try later",
        message_id="<caseload@duet.local>",
    )

    with django_capture_on_commit_callbacks(execute=True):  # tasks run eagerly in tests
        _resend(staff_client, failed, confirm=True)
    with django_capture_on_commit_callbacks(execute=True):
        _resend(staff_client, failed, confirm=True)

    failed.refresh_from_db()
    assert failed.status == "sent"
    assert [message.to for message in mail.outbox] == [[therapist.email]]
