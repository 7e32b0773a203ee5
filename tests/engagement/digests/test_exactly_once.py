"""A digest goes once per user and week: tasks run twice, servers refuse, workers die."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from celery.exceptions import Retry
from django.core.management import call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.models import User
from engagement.digests import delivery
from engagement.digests import pipeline
from engagement.digests.delivery import DeliveryKey
from engagement.models import DigestDelivery
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.builders import send_digests_at
from tests.engagement.digests.conftest import RefusingMailbox

pytestmark = pytest.mark.django_db

SEND = local(NEXT_MONDAY, 8)
Status = DigestDelivery.Status


@pytest.fixture
def only_a() -> User:
    """One couple whose partner `a` is the only recipient: the other has unsubscribed and
    there is no therapist, so the server's first refusal is a's."""
    _, a, b, _ = reported_couple(therapist=False)
    User.objects.filter(pk=b.pk).update(weekly_digest=False)
    return a


def row_of(user: User) -> DigestDelivery:
    return DigestDelivery.objects.get(user=user, kind="partner", week_start=WEEK)


def test_task_run_twice_sends_one_message_per_user(mailbox: RefusingMailbox) -> None:
    _, a, b, therapist = reported_couple()
    assert therapist is not None

    send_digests_at(SEND)
    send_digests_at(SEND)
    send_digests_at(SEND + dt.timedelta(minutes=15))
    send_digests_at(SEND + dt.timedelta(hours=30))

    for user in (a, b, therapist):
        message = mailbox.only(user.email)
        row = DigestDelivery.objects.get(user=user, week_start=WEEK)
        assert row.status == Status.SENT
        assert row.attempts == 1
        assert message.message["Message-ID"] == row.message_id
    assert len(mailbox.messages) == 3


def test_command_after_the_task_and_twice_sends_nothing_more(mailbox: RefusingMailbox) -> None:
    _, a, b, _ = reported_couple()

    send_digests_at(SEND)
    with time_machine.travel(SEND + dt.timedelta(minutes=1), tick=False):
        call_command("send_digests", stdout=None)
        call_command("send_digests", stdout=None)

    assert len(mailbox.to(a.email)) == 1
    assert len(mailbox.to(b.email)) == 1


def test_refused_send_is_retried_later_and_sent_once(
    mailbox: RefusingMailbox, only_a: User
) -> None:
    mailbox.refusals.append("451 4.3.0 Try again later")

    send_digests_at(SEND)
    row = row_of(only_a)
    assert mailbox.to(only_a.email) == []
    assert row.status == Status.FAILED
    assert row.attempts == 1
    assert "451" in row.error
    assert row.next_attempt_at == SEND + delivery.RETRY_BASE

    send_digests_at(SEND + dt.timedelta(minutes=4))  # backing off
    assert mailbox.to(only_a.email) == []

    send_digests_at(SEND + dt.timedelta(minutes=15))
    send_digests_at(SEND + dt.timedelta(minutes=30))
    message = mailbox.only(only_a.email)
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 2
    assert row.error == ""
    # The same Message-ID on every attempt, so any copy can be traced.
    assert message.message["Message-ID"] == row.message_id


def test_through_a_server_that_offers_pipelining_the_ledger_rules_hold(
    mailbox: RefusingMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAIL, RCPT and DATA in one write (config/smtp.py): a refusal is still retried later,
    every other message sent and recorded once."""
    from config import smtp

    _, a, b, therapist = reported_couple()
    assert therapist is not None
    mailbox.pipelining = True
    pipelined: list[bool] = []
    start = smtp.start

    def watched(wire: Any, envelope: Any, **kwargs: Any) -> None:
        start(wire, envelope, **kwargs)
        pipelined.append(wire.has_extn("pipelining"))  # known once start has said EHLO

    monkeypatch.setattr(smtp, "start", watched)
    mailbox.refusals.append("451 4.3.0 Try again later")
    send_digests_at(SEND)

    assert pipelined == [True, True, True]
    statuses = sorted(DigestDelivery.objects.values_list("status", flat=True))
    assert statuses == [Status.FAILED, Status.SENT, Status.SENT]
    send_digests_at(SEND + dt.timedelta(minutes=15))
    for user in (a, b, therapist):
        assert len(mailbox.to(user.email)) == 1
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_permanent_refusal_fails_at_once_and_keeps_the_error(
    mailbox: RefusingMailbox, only_a: User
) -> None:
    mailbox.refusals.append("550 5.1.1 Mailbox unavailable")

    send_digests_at(SEND)
    send_digests_at(SEND + dt.timedelta(hours=2))

    row = row_of(only_a)
    assert mailbox.to(only_a.email) == []
    assert row.status == Status.FAILED
    assert row.next_attempt_at is None
    assert "550" in row.error
    assert row.attempts == 1


def test_retries_back_off_and_stop_after_the_last_attempt(
    mailbox: RefusingMailbox, only_a: User
) -> None:
    mailbox.refusals.extend(["421 4.7.0 Busy"] * delivery.MAX_ATTEMPTS)
    at = SEND
    delays = []
    for _ in range(delivery.MAX_ATTEMPTS):
        send_digests_at(at)
        row = row_of(only_a)
        if row.next_attempt_at is None:
            break
        delays.append(row.next_attempt_at - at)
        at = row.next_attempt_at
    send_digests_at(at + dt.timedelta(hours=3))

    row = row_of(only_a)
    assert delays == [dt.timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert row.status == Status.FAILED
    assert row.attempts == delivery.MAX_ATTEMPTS
    assert row.next_attempt_at is None
    assert "421" in row.error
    assert mailbox.to(only_a.email) == []


def test_a_claim_abandoned_before_sending_is_never_resent(
    mailbox: RefusingMailbox, only_a: User
) -> None:
    # A worker claimed the row, then died (before or after the server took the message:
    # nobody can tell which).
    key = DeliveryKey(only_a.id, "partner", WEEK)
    with time_machine.travel(SEND, tick=False):
        row = delivery.ledger([key], create=[key])[key]
        assert delivery.claim(row.id, message_id=row.message_id) is not None

    send_digests_at(SEND + dt.timedelta(minutes=15))  # a live claim: left alone
    assert row_of(only_a).status == Status.CLAIMED
    send_digests_at(SEND + delivery.CLAIM_TIMEOUT + dt.timedelta(minutes=1))
    send_digests_at(SEND + dt.timedelta(hours=3))

    row = row_of(only_a)
    assert mailbox.to(only_a.email) == []
    assert row.status == Status.FAILED
    assert row.error.startswith("outcome unknown")
    assert row.next_attempt_at is None


class WorkerDied(BaseException):
    """The process is killed: nothing after this line runs."""


def test_a_worker_dying_after_the_server_took_the_message_causes_no_second_copy(
    mailbox: RefusingMailbox, only_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*args: object, **kwargs: object) -> None:
        raise WorkerDied

    monkeypatch.setattr(delivery, "mark_sent", die)
    with pytest.raises(WorkerDied):
        send_digests_at(SEND)
    monkeypatch.undo()
    assert len(mailbox.to(only_a.email)) == 1
    assert row_of(only_a).status == Status.CLAIMED

    for minutes in (15, 30, 45, 60, 24 * 60):
        send_digests_at(SEND + dt.timedelta(minutes=minutes))

    assert len(mailbox.to(only_a.email)) == 1
    row = row_of(only_a)
    assert row.status == Status.FAILED
    assert row.error.startswith("outcome unknown")


def test_a_connection_dropped_mid_send_is_not_retried(
    mailbox: RefusingMailbox, only_a: User
) -> None:
    mailbox.hang_ups = 1  # the server reads the message, then the connection is gone
    send_digests_at(SEND)
    send_digests_at(SEND + dt.timedelta(hours=1))

    row = row_of(only_a)
    assert row.status == Status.FAILED
    assert row.error.startswith("outcome unknown")
    assert mailbox.to(only_a.email) == []


def test_a_dropped_connection_costs_only_the_message_in_flight(mailbox: RefusingMailbox) -> None:
    """The message after the one whose verdict never came goes on a new connection, once."""
    _, a, b, _ = reported_couple(therapist=False)
    mailbox.hang_ups = 1
    send_digests_at(SEND)

    rows = {row.user_id: row for row in DigestDelivery.objects.all()}
    lost, other = (a, b) if rows[a.id].status == Status.FAILED else (b, a)
    assert rows[lost.id].error.startswith("outcome unknown")
    assert rows[other.id].status == Status.SENT
    assert mailbox.to(lost.email) == []
    assert len(mailbox.to(other.email)) == 1


def _sending_order(monkeypatch: pytest.MonkeyPatch, *, replies_at_once: bool) -> list[str]:
    """What a chunk of three digests does, in order: rendering steps (templates, message,
    MIME, bytes) and SMTP commands and replies; the server's replies taken as there at once
    (or as never there before the client asks) when the client looks without waiting."""
    import smtplib

    from config import emails
    from config import smtp
    from engagement.digests import compose

    reported_couple()
    events: list[str] = []

    def spy(name: str | Callable[..., str], real: Callable[..., Any]) -> Callable[..., Any]:
        def called(*args: Any, **kwargs: Any) -> Any:
            events.append(name(*args) if callable(name) else name)
            return real(*args, **kwargs)

        return called

    monkeypatch.setattr(smtp, "_answered", lambda poller: replies_at_once)
    monkeypatch.setattr(emails, "render", spy("templates", emails.render))
    monkeypatch.setattr(compose, "email_message", spy("message", compose.email_message))
    monkeypatch.setattr(
        emails.AlternativesMessage, "message", spy("mime", emails.AlternativesMessage.message)
    )
    monkeypatch.setattr(smtp, "wire_bytes", spy("bytes", smtp.wire_bytes))
    monkeypatch.setattr(
        smtplib.SMTP, "putcmd", spy(lambda _, cmd, *__: cmd.split()[0], smtplib.SMTP.putcmd)
    )
    monkeypatch.setattr(smtplib.SMTP, "getreply", spy("reply", smtplib.SMTP.getreply))
    send_digests_at(SEND)
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {Status.SENT}
    return events


RENDER = ["templates", "message", "mime", "bytes"]  # a message's rendering, step by step


def test_a_step_of_the_next_digest_fills_each_wait_for_the_server(
    mailbox: RefusingMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What makes one process fast (issue 20): without PIPELINING the server answers MAIL,
    RCPT, DATA and the message one by one, and while it does the client renders the next
    message a step at a time: a reply that is there at once waits for one step only. Each
    verdict is read before anything more is said on the connection."""
    events = _sending_order(monkeypatch, replies_at_once=True)

    # The greeting on connecting (before the chunk is claimed), then the first message whole.
    assert events[: events.index("MAIL")] == ["reply", *RENDER, "ehlo", "reply"]
    assert events[events.index("MAIL") :] == [
        *["MAIL", "templates", "reply", "RCPT", "message", "mime", "reply"],
        *["DATA", "bytes", "reply", "templates", "reply"],  # the third's templates: the verdict
        *["MAIL", "message", "mime", "reply", "RCPT", "bytes", "reply", "DATA", "reply", "reply"],
        *["MAIL", "reply", "RCPT", "reply", "DATA", "reply", "reply"],
        *["quit", "reply"],
    ]
    assert len(mailbox.messages) == 3


def test_a_slow_server_lets_the_client_render_two_digests_ahead_no_more(
    mailbox: RefusingMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _sending_order(monkeypatch, replies_at_once=False)

    first = events.index("MAIL")
    assert events[first:] == [
        *["MAIL", *RENDER, *RENDER, "reply", "RCPT", "reply", "DATA", "reply", "reply"],
        *["MAIL", "reply", "RCPT", "reply", "DATA", "reply", "reply"],
        *["MAIL", "reply", "RCPT", "reply", "DATA", "reply", "reply"],
        *["quit", "reply"],
    ]
    assert len(mailbox.messages) == 3


def test_a_digest_no_server_would_take_fails_alone(mailbox: RefusingMailbox) -> None:
    """An address with a line break (written past the API's validation) cannot be put on the
    wire: that digest fails for good, saying why, and the chunk's others are sent."""
    _, a, b, therapist = reported_couple()
    assert therapist is not None
    User.objects.filter(pk=b.pk).update(email="quillon@example.com\nBcc: a@example.com")
    send_digests_at(SEND)

    rows = {row.user_id: row for row in DigestDelivery.objects.all()}
    assert rows[b.id].status == Status.FAILED
    assert rows[b.id].error.startswith("could not build the message: BadHeaderError(")
    assert rows[b.id].next_attempt_at is None
    assert (rows[a.id].status, rows[therapist.id].status) == (Status.SENT, Status.SENT)
    assert {m.recipients[0] for m in mailbox.messages} == {a.email, therapist.email}
    send_digests_at(SEND + dt.timedelta(hours=1))
    assert len(mailbox.messages) == 2


@pytest.mark.parametrize("failing", ["templates", "message"])
def test_a_digest_that_fails_to_render_stops_the_chunk_after_recording_the_one_sent(
    mailbox: RefusingMailbox, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A bug in a template, or in building the message: it happens while the server answers
    about the first digest (rendering ahead), yet the first is still sent whole, its verdict
    read and recorded sent; the error is raised at the second's turn, and the rest of the
    chunk goes back to pending, its attempt uncounted, for the fixed code."""
    from config import emails
    from engagement.digests import compose

    _, a, b, _ = reported_couple(therapist=False)
    module: Any = emails if failing == "templates" else compose
    name = "render" if failing == "templates" else "email_message"
    real = getattr(module, name)
    calls: list[int] = []

    def second_fails(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a template bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, second_fails)
    users = list(User.objects.filter(pk__in=[a.pk, b.pk]).order_by("pk"))
    with time_machine.travel(SEND, tick=False), pytest.raises(RuntimeError, match="template"):
        pipeline.send_digests(users, now=SEND)
    monkeypatch.undo()

    rows = {row.user_id: row for row in DigestDelivery.objects.all()}
    first, second = (a, b) if rows[a.id].status == Status.SENT else (b, a)
    assert len(mailbox.to(first.email)) == 1
    assert mailbox.to(second.email) == []
    assert (rows[second.id].status, rows[second.id].attempts) == (Status.PENDING, 0)

    send_digests_at(SEND + dt.timedelta(minutes=15))
    assert len(mailbox.to(a.email)) == len(mailbox.to(b.email)) == 1


def test_two_workers_cannot_both_claim_a_digest(db: None) -> None:
    _, a, _, _ = reported_couple()
    key = DeliveryKey(a.id, "partner", WEEK)
    delivery.ledger([key], create=[key])
    row = delivery.ledger([key], create=[key])[key]  # a second insert is a no-op

    first = delivery.claim(row.id, message_id=row.message_id)
    second = delivery.claim(row.id, message_id=row.message_id)

    assert first is not None
    assert second is None
    assert DigestDelivery.objects.filter(user=a).count() == 1


def test_an_unreachable_server_claims_nothing(
    mailbox: RefusingMailbox, settings: SettingsWrapper, only_a: User
) -> None:
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there

    with pytest.raises(Retry):  # the chunk task asks Celery to try again later
        send_digests_at(SEND)
    row = row_of(only_a)
    assert row.status == Status.PENDING
    assert row.attempts == 0

    settings.EMAIL_PORT = port
    send_digests_at(SEND + dt.timedelta(minutes=15))
    assert len(mailbox.to(only_a.email)) == 1


def test_a_late_report_is_waited_for(mailbox: RefusingMailbox) -> None:
    from tests.engagement.digests.builders import LONG_AGO
    from tests.engagement.digests.builders import figures
    from tests.engagement.digests.builders import store_report
    from tests.factories import make_couple

    couple, a, b, _ = make_couple(therapist=False, created_at=LONG_AGO)

    send_digests_at(SEND)
    assert mailbox.messages == []
    assert row_of(a).status == Status.PENDING

    store_report(couple, WEEK, [figures(a), figures(b)])
    send_digests_at(SEND + dt.timedelta(hours=5))
    assert len(mailbox.to(a.email)) == 1
    assert len(mailbox.to(b.email)) == 1


def test_a_report_that_never_comes_is_skipped_after_a_day_with_the_reason(
    mailbox: RefusingMailbox,
) -> None:
    from tests.factories import make_couple

    couple, a, _, therapist = make_couple()
    assert therapist is not None

    send_digests_at(SEND)
    send_digests_at(SEND + dt.timedelta(hours=23, minutes=45))
    assert mailbox.messages == []
    send_digests_at(SEND + dt.timedelta(hours=24))

    row = row_of(a)
    assert row.status == Status.SKIPPED
    assert f"no report of week {WEEK} for couple {couple.id}" in row.error
    assert mailbox.to(a.email) == []
    # The therapist's digest goes without it: the rest of a caseload cannot wait.
    assert "No report this week" in mailbox.only(therapist.email).html


def test_a_connection_the_server_dropped_while_idle_is_reopened_without_losing_a_message(
    mailbox: RefusingMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, a, b, _ = reported_couple(therapist=False)
    monkeypatch.setattr(delivery, "IDLE_CHECK_SECONDS", 0.0)  # always ask before a claim
    finish = delivery._finish

    def finish_then_drop(connection: Any, item: Any, *args: Any) -> str:
        outcome = finish(connection, item, *args)  # the server took the message
        connection.connection.sock.shutdown(socket.SHUT_RDWR)  # then the connection is gone
        return outcome

    monkeypatch.setattr(delivery, "_finish", finish_then_drop)
    send_digests_at(SEND)

    assert len(mailbox.to(a.email)) == 1
    assert len(mailbox.to(b.email)) == 1
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_server_gone_mid_chunk_leaves_the_untried_rows_pending_with_no_attempt_counted(
    mailbox: RefusingMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk is claimed in one statement (issue 20): rows it never got to try go back to
    pending, their attempt uncounted, and the next run sends them, once."""
    _, a, b, _ = reported_couple(therapist=False)
    ensure_open = delivery._ensure_open
    calls = []

    def gone_after_the_first(connection: object, *, idle_seconds: float) -> None:
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionRefusedError("the server went away")
        ensure_open(connection, idle_seconds=idle_seconds)  # type: ignore[arg-type]

    monkeypatch.setattr(delivery, "_ensure_open", gone_after_the_first)
    with pytest.raises(Retry):
        send_digests_at(SEND)
    monkeypatch.undo()

    rows = {row.user_id: row for row in DigestDelivery.objects.all()}
    first, second = (a, b) if rows[a.id].status == Status.SENT else (b, a)
    assert rows[first.id].status == Status.SENT
    assert (rows[second.id].status, rows[second.id].attempts) == (Status.PENDING, 0)
    assert rows[second.id].claim_token is None

    send_digests_at(SEND + dt.timedelta(minutes=15))
    assert len(mailbox.to(a.email)) == len(mailbox.to(b.email)) == 1
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {Status.SENT}
