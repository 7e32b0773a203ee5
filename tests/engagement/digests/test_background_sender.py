"""`manage.py send_digests` sends each chunk on a thread while it composes the next
(`delivery.BackgroundSender`, issue 20): what the server answered, or what went wrong on either
thread, is recorded for each row as when the chunk is sent in line; never twice."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from engagement.digests import delivery
from engagement.digests import pipeline
from engagement.models import DigestDelivery
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.conftest import RefusingMailbox

pytestmark = pytest.mark.django_db

Status = DigestDelivery.Status
AT = local(NEXT_MONDAY, 0, minute=30)


@pytest.fixture
def recipients(monkeypatch: pytest.MonkeyPatch) -> list[User]:
    """Three couples with a therapist each (nine digests), two users a page: five chunks, so
    that a chunk is being sent while the next is composed."""
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 2)
    users: list[User] = []
    for _ in range(3):
        _, a, b, therapist = reported_couple()
        assert therapist is not None
        users += [a, b, therapist]
    return users


def send_digests() -> str:
    out = StringIO()
    with time_machine.travel(AT, tick=False):
        call_command("send_digests", stdout=out)
    return out.getvalue()


def rows() -> dict[str, DigestDelivery]:
    return {row.user.email: row for row in DigestDelivery.objects.select_related("user")}


def test_every_chunk_is_sent_once_and_recorded(
    mailbox: RefusingMailbox, recipients: list[User]
) -> None:
    output = send_digests()

    assert "9  sent" in output
    for user in recipients:
        message = mailbox.only(user.email)
        row = rows()[user.email]
        assert (row.status, row.attempts) == (Status.SENT, 1)
        assert message.message["Message-ID"] == row.message_id
    assert "9  already sent or settled" in send_digests()
    assert len(mailbox.messages) == 9


def test_refusals_on_the_sending_thread_are_recorded_with_their_retry(
    mailbox: RefusingMailbox, recipients: list[User]
) -> None:
    mailbox.refusals.extend(["451 4.3.0 Try again later", "550 5.1.1 Mailbox unavailable"])

    output = send_digests()

    assert "7  sent" in output
    assert "1  refused for now, will retry" in output
    assert "1  failed (see the error on its delivery row)" in output
    by_status: dict[str, list[DigestDelivery]] = {}
    for email, row in rows().items():
        by_status.setdefault(row.status, []).append(row)
        assert len(mailbox.to(email)) == (1 if row.status == Status.SENT else 0)
    (retrying,) = [r for r in by_status[Status.FAILED] if r.next_attempt_at is not None]
    (refused,) = [r for r in by_status[Status.FAILED] if r.next_attempt_at is None]
    assert "451" in retrying.error
    assert retrying.next_attempt_at == AT + delivery.RETRY_BASE
    assert "550" in refused.error
    assert len(by_status[Status.SENT]) == 7


def test_a_connection_dropped_on_the_sending_thread_is_unknown_and_never_resent(
    mailbox: RefusingMailbox, recipients: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.mail.backends.smtp import EmailBackend

    send = EmailBackend.send_messages
    calls: list[int] = []

    def drop_the_fourth(self: EmailBackend, messages: list[object]) -> int:
        calls.append(1)
        if len(calls) == 4:
            raise ConnectionResetError("connection reset by peer")
        return send(self, messages)  # type: ignore[arg-type]

    monkeypatch.setattr(EmailBackend, "send_messages", drop_the_fourth)
    output = send_digests()
    monkeypatch.undo()

    assert "8  sent" in output
    assert "1  failed, outcome unknown" in output
    (unknown,) = [row for row in rows().values() if row.status != Status.SENT]
    assert unknown.status == Status.FAILED
    assert unknown.error.startswith("outcome unknown")
    assert unknown.next_attempt_at is None

    send_digests()
    assert rows()[unknown.user.email].status == Status.FAILED
    assert mailbox.to(unknown.user.email) == []
    assert len(mailbox.messages) == 8


def test_a_server_gone_on_the_sending_thread_stops_the_run_and_leaves_the_rest_pending(
    mailbox: RefusingMailbox, recipients: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread's exception is raised by the command, after its chunk is recorded: the sent
    as sent, the untried as pending with no attempt counted; later chunks are never claimed."""
    ensure_open = delivery._ensure_open
    calls: list[int] = []

    def gone_after_three(connection: object, *, idle_seconds: float) -> None:
        calls.append(1)
        if len(calls) > 3:
            raise ConnectionRefusedError("the server went away")
        ensure_open(connection, idle_seconds=idle_seconds)  # type: ignore[arg-type]

    monkeypatch.setattr(delivery, "_ensure_open", gone_after_three)
    with pytest.raises(ConnectionRefusedError):
        send_digests()
    monkeypatch.undo()

    statuses = [(row.status, row.attempts) for row in rows().values()]
    assert statuses.count((Status.SENT, 1)) == 3
    assert set(statuses) <= {(Status.SENT, 1), (Status.PENDING, 0)}
    assert not DigestDelivery.objects.filter(status=Status.PENDING, claim_token__isnull=False)
    assert len(mailbox.messages) == 3

    output = send_digests()
    assert "3  already sent or settled" in output
    for user in recipients:
        assert len(mailbox.to(user.email)) == 1


def test_an_error_while_composing_records_the_chunk_in_flight(
    mailbox: RefusingMailbox, recipients: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The composing thread fails while a chunk is being sent: that chunk's thread stops after
    the message it is sending, and every row ends sent (one copy) or pending (none, no attempt
    counted); none is left claimed, and the next run sends the rest once."""
    compose = pipeline._compose
    calls: list[int] = []

    def fail_on_the_fifth(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("a template broke")
        return compose(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_compose", fail_on_the_fifth)
    with pytest.raises(RuntimeError, match="a template broke"):
        send_digests()
    monkeypatch.undo()

    for email, row in rows().items():
        if row.status == Status.SENT:
            assert (row.attempts, len(mailbox.to(email))) == (1, 1)
        else:
            assert (row.status, row.attempts, row.claim_token) == (Status.PENDING, 0, None)
            assert mailbox.to(email) == []
    assert not DigestDelivery.objects.filter(status=Status.CLAIMED).exists()

    send_digests()
    for user in recipients:
        assert len(mailbox.to(user.email)) == 1
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_process_killed_before_the_record_leaves_the_chunk_claimed_never_resent(
    mailbox: RefusingMailbox, recipients: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Killed(BaseException):
        """Nothing after this line runs."""

    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    monkeypatch.setattr(delivery, "mark_sent", die)
    with pytest.raises(Killed):
        send_digests()
    monkeypatch.undo()
    claimed = DigestDelivery.objects.filter(status=Status.CLAIMED)
    sent_before = len(mailbox.messages)
    assert sent_before == claimed.count() > 0

    # Half an hour on, the claims are given up as outcome unknown; nothing goes twice.
    with time_machine.travel(AT + delivery.CLAIM_TIMEOUT + dt.timedelta(minutes=1), tick=False):
        call_command("send_digests", stdout=StringIO())
    for user in recipients:
        assert len(mailbox.to(user.email)) == 1
    unknown = DigestDelivery.objects.filter(status=Status.FAILED)
    assert unknown.count() == sent_before
    assert all(row.error.startswith("outcome unknown") for row in unknown)
