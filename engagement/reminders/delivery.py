"""Exactly-once reminders: a ledger row per (user, local date), claimed before sending.

The pattern of the digests' ledger (engagement/digests/delivery.py, docs/operations.md):
- Rows are created pending in bulk; the unique (user, local_date) key makes a second insert,
  by a task that runs twice or a worker racing another, a no-op.
- A worker sends only after winning a compare-and-set UPDATE from pending to claimed.
- Whatever happens mid-send, the row is never sent again: a reminder is at most daily, and a
  lost one costs less than a doubled one. A refusal is kept as failed with its error; a worker
  that died between claim and record leaves a claim that is released as failed, outcome
  unknown, after CLAIM_TIMEOUT.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
import uuid
from collections import Counter
from collections.abc import Sequence
from uuid import UUID

from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.push import SENT
from accounts.push import push_send
from engagement.digests.delivery import CLAIM_TIMEOUT
from engagement.digests.delivery import open_connection
from engagement.digests.delivery import refusal_code
from engagement.models import ReminderDelivery
from engagement.reminders import texts
from engagement.reminders.planner import Planned
from engagement.reminders.planner import local_now
from engagement.reminders.planner import plan

Status = ReminderDelivery.Status
Channel = ReminderDelivery.Channel

OUTCOME_UNKNOWN = (
    "outcome unknown: {reason}. It may have reached the user; not resent, since a reminder "
    "is never sent twice."
)


def ledger(plans: Sequence[Planned]) -> dict[tuple[UUID, dt.date], ReminderDelivery]:
    """The rows of these reminders, created pending where missing. Two queries."""
    if not plans:
        return {}
    ReminderDelivery.objects.bulk_create(
        [
            ReminderDelivery(user_id=p.user.id, local_date=p.local_date, channel=p.channel)
            for p in plans
        ],
        ignore_conflicts=True,
    )
    rows = ReminderDelivery.objects.filter(
        user_id__in=[p.user.id for p in plans], local_date__in={p.local_date for p in plans}
    )
    return {(row.user_id, row.local_date): row for row in rows}


def claim(row_id: UUID, *, channel: str) -> UUID | None:
    """Take the row for this worker: the claim token when the UPDATE won, None otherwise."""
    now = timezone.now()
    token = uuid.uuid4()
    won = ReminderDelivery.objects.filter(pk=row_id, status=Status.PENDING).update(
        status=Status.CLAIMED, claim_token=token, claimed_at=now, channel=channel, updated_at=now
    )
    return token if won == 1 else None


def _outcome_unknown(exc: BaseException) -> str:
    """The error of a send that raised: whether it went out is unknown."""
    return OUTCOME_UNKNOWN.format(reason=repr(exc))


def _settle(row_id: UUID, token: UUID, *, status: str, error: str = "") -> None:
    now = timezone.now()
    ReminderDelivery.objects.filter(pk=row_id, claim_token=token).update(
        status=status,
        sent_at=now if status == Status.SENT else None,
        error=error[:2000],
        updated_at=now,
    )


def release_abandoned_claims(*, now: dt.datetime) -> int:
    """Claims older than CLAIM_TIMEOUT: their worker died between claim and record. The push
    or mail may have gone, so they become failed, outcome unknown, and are never resent."""
    return ReminderDelivery.objects.filter(
        status=Status.CLAIMED, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(
        status=Status.FAILED,
        error=OUTCOME_UNKNOWN.format(reason="the worker stopped between claim and record"),
        updated_at=now,
    )


def _skip_stale_pending(users: Sequence[User], planned: Sequence[Planned], now: dt.datetime) -> int:
    """Rows left pending by a run that stopped before claiming, for users no longer due today
    (they checked in since): settled as skipped. One query."""
    planned_ids = {p.user.id for p in planned}
    stale = Q()
    for user in users:
        if user.id not in planned_ids:
            stale |= Q(user_id=user.id, local_date=local_now(now, user.timezone).date())
    if not stale:
        return 0
    return ReminderDelivery.objects.filter(stale, status=Status.PENDING).update(
        status=Status.SKIPPED, error="no longer due", updated_at=now
    )


def _send_push(item: Planned) -> tuple[str, str]:
    counts = push_send(item.devices, texts.reminder_push(item.user.language))
    if counts[SENT]:
        return Status.SENT, ""
    return Status.FAILED, "no device took it: " + ", ".join(f"{k} {v}" for k, v in counts.items())


def _send_email(item: Planned, connection: BaseEmailBackend) -> tuple[str, str]:
    message = texts.reminder_email(item.user)
    message.connection = connection
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        code = refusal_code(exc)
        if code is None:
            return Status.FAILED, _outcome_unknown(exc)
        return Status.FAILED, f"refused ({code}): {exc}"
    return Status.SENT, ""


def send_reminders(users: Sequence[User], *, now: dt.datetime) -> Counter[str]:
    """Plan and send the reminders these users are owed now; safe to run twice, or in two
    workers at once (the ledger lets one reminder per user and local date through)."""
    counts: Counter[str] = Counter()
    planned = plan(users, now=now)
    counts["skipped"] += _skip_stale_pending(users, planned, now)
    rows = ledger(planned)
    connection: BaseEmailBackend | None = None
    try:
        for item in planned:
            row = rows.get((item.user.id, item.local_date))
            if row is None or row.status != Status.PENDING:
                counts["done"] += 1
                continue
            if item.channel == Channel.EMAIL and connection is None:
                connection = open_connection()  # raises before any claim when unreachable
            token = claim(row.id, channel=item.channel)
            if token is None:
                counts["taken"] += 1
                continue
            try:
                if item.channel == Channel.PUSH:
                    status, error = _send_push(item)
                else:
                    assert connection is not None
                    status, error = _send_email(item, connection)
            except BaseException as exc:
                _settle(row.id, token, status=Status.FAILED, error=_outcome_unknown(exc))
                raise
            _settle(row.id, token, status=status, error=error)
            counts[f"{item.channel}_{status}"] += 1
    finally:
        if connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()
    return counts
