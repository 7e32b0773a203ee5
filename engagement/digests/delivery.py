"""Exactly-once sending: a ledger row per (user, kind, week), claimed before the SMTP send.

The rules (docs/operations.md, "Digests"):
- A row is created pending, once: the unique (user, kind, week) key makes a second insert,
  by a task that runs twice or a worker racing another, a no-op.
- A worker sends only after winning a compare-and-set UPDATE from pending (or failed and due
  for a retry) to claimed; an UPDATE touches the row for exactly one worker.
- The server refusing a message with a reply code means it was not delivered: a 4xx is retried
  later with exponential backoff (up to MAX_ATTEMPTS), a 5xx fails at once; the error is kept.
- Anything else mid-send (a dropped connection, a timeout, a killed worker) leaves no way to
  know whether the server accepted the message. Such a row is never sent again: it is marked
  failed, outcome unknown, for an operator to look up by its Message-ID. SPEC 7 says a message
  is never sent twice, and for a weekly summary a lost email costs less than a doubled one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
import time
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPEmailBackend
from django.db.models import F, Q
from django.utils import timezone

from config.emails import message_id_domain
from config.observability import metrics
from engagement.models import DigestDelivery

Status = DigestDelivery.Status

MAX_ATTEMPTS = 5
RETRY_BASE = dt.timedelta(minutes=5)  # then 10, 20, 40 minutes
# Longer than a task's hard time limit (15 min, config/celery.py): a claim this old belongs to
# a worker that is gone, never to one still sending.
CLAIM_TIMEOUT = dt.timedelta(minutes=30)
SMTP_TIMEOUT_SECONDS = 30
# A connection idle this long is asked whether it is still there before the next claim.
IDLE_CHECK_SECONDS = 5.0
OUTCOME_UNKNOWN = (
    "outcome unknown: {reason}. The server may have accepted it; not resent, since a digest "
    "is never sent twice. Look for the Message-ID in the mail server's log."
)


@dataclass(frozen=True)
class DeliveryKey:
    user_id: UUID
    kind: str
    week_start: dt.date


@dataclass(frozen=True)
class Outgoing:
    delivery: DigestDelivery
    message: EmailMultiAlternatives
    message_id: str  # also in the message's headers


def ledger(
    keys: Collection[DeliveryKey], *, create: Collection[DeliveryKey]
) -> dict[DeliveryKey, DigestDelivery]:
    """The rows of these digests, after creating those of ``create`` that were missing.

    Each row gets its Message-ID when created, so every attempt carries the same one and an
    operator can trace any of them in the mail server's log. Two queries.
    """
    if create:
        domain = message_id_domain()
        DigestDelivery.objects.bulk_create(
            [
                DigestDelivery(
                    user_id=key.user_id,
                    kind=key.kind,
                    week_start=key.week_start,
                    message_id=make_msgid(domain=domain),
                )
                for key in create
            ],
            ignore_conflicts=True,
        )
    if not keys:
        return {}
    rows = DigestDelivery.objects.filter(
        user_id__in={key.user_id for key in keys},
        week_start__in={key.week_start for key in keys},
    )
    found = {DeliveryKey(row.user_id, row.kind, row.week_start): row for row in rows}
    return {key: found[key] for key in keys if key in found}


def is_claimable(row: DigestDelivery, *, now: dt.datetime, respect_backoff: bool) -> bool:
    if row.status == Status.PENDING:
        return True
    return (
        row.status == Status.FAILED
        and row.next_attempt_at is not None
        and (not respect_backoff or row.next_attempt_at <= now)
    )


def claim(delivery_id: UUID, *, message_id: str, respect_backoff: bool = True) -> UUID | None:
    """Take the row for this worker: the claim token when the UPDATE won, None otherwise."""
    now = timezone.now()
    token = uuid.uuid4()
    retryable = Q(status=Status.FAILED, next_attempt_at__isnull=False)
    if respect_backoff:
        retryable &= Q(next_attempt_at__lte=now)
    won = DigestDelivery.objects.filter(
        Q(status=Status.PENDING) | retryable, pk=delivery_id
    ).update(
        status=Status.CLAIMED,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
        message_id=message_id,
        updated_at=now,
    )
    return token if won == 1 else None


def mark_sent(delivery_id: UUID, token: UUID) -> None:
    # Matched on the token alone: if a slow send outlived CLAIM_TIMEOUT and the row was given
    # up as unknown meanwhile, this worker still knows best that the server took it.
    now = timezone.now()
    DigestDelivery.objects.filter(pk=delivery_id, claim_token=token).update(
        status=Status.SENT, sent_at=now, error="", updated_at=now
    )


def mark_failed(
    delivery_id: UUID, token: UUID, *, error: str, retry_in: dt.timedelta | None
) -> None:
    now = timezone.now()
    DigestDelivery.objects.filter(pk=delivery_id, claim_token=token, status=Status.CLAIMED).update(
        status=Status.FAILED,
        next_attempt_at=None if retry_in is None else now + retry_in,
        error=error[:2000],
        updated_at=now,
    )


def mark_skipped(delivery_id: UUID, *, reason: str) -> bool:
    """A digest that will not be sent this week (its report never came), with why."""
    return bool(
        DigestDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).update(
            status=Status.SKIPPED, error=reason[:2000], updated_at=timezone.now()
        )
    )


def release_abandoned_claims(*, now: dt.datetime) -> int:
    """Claims older than CLAIM_TIMEOUT: their worker died between claim and record. The send
    may have happened, so they become failed, outcome unknown, and are never resent."""
    metrics.digests_given_up(claimed_before=now - CLAIM_TIMEOUT)
    return DigestDelivery.objects.filter(
        status=Status.CLAIMED, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(
        status=Status.FAILED,
        next_attempt_at=None,
        error=OUTCOME_UNKNOWN.format(reason="the worker stopped between claim and record"),
        updated_at=now,
    )


def retry_delay(attempts: int) -> dt.timedelta | None:
    """Exponential backoff after the ``attempts``-th failed attempt; None once they are used up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return RETRY_BASE * 2 ** (attempts - 1)


def refusal_code(exc: BaseException) -> int | None:
    """The reply code with which the server refused the message; None when it did not say,
    so it may have accepted it (a dropped connection, a timeout)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 400:
        return exc.smtp_code
    return None


def open_connection() -> BaseEmailBackend:
    """One connection for a chunk of messages. Raises when the server cannot be reached,
    before any row is claimed, so the chunk can simply be tried again later."""
    connection = get_connection(
        fail_silently=False, timeout=settings.EMAIL_TIMEOUT or SMTP_TIMEOUT_SECONDS
    )
    connection.open()
    return connection


def _ensure_open(connection: BaseEmailBackend, *, idle_seconds: float) -> None:
    """An SMTP connection that still answers, reopened if the server dropped it between
    messages; checked before a claim so that a dead connection never costs a message.

    A connection that answered a moment ago is taken as alive: servers drop idle connections
    after minutes (RFC 5321 suggests five), and a NOOP before every message would cost a round
    trip each. A server that closes without a reply within that moment costs at most one
    message, marked outcome unknown, never a second copy.
    """
    if not isinstance(connection, SMTPEmailBackend):
        return
    if connection.connection is not None:
        if idle_seconds < IDLE_CHECK_SECONDS:
            return
        try:
            if connection.connection.noop()[0] == 250:
                return
        except (smtplib.SMTPException, OSError):
            pass
        try:
            connection.close()
        except (smtplib.SMTPException, OSError):
            connection.connection = None
    connection.open()


def _keep_html_copy(connection: BaseEmailBackend, outgoing: Outgoing) -> None:
    """With the file backend (`make run`), also write the HTML part where a browser opens it."""
    if not isinstance(connection, FileEmailBackend):
        return
    row = outgoing.delivery
    folder = Path(getattr(connection, "file_path", "")) / "html"
    folder.mkdir(parents=True, exist_ok=True)
    html = next((body for body, kind in outgoing.message.alternatives if kind == "text/html"), "")
    (folder / f"{row.week_start}-{row.kind}-{row.user_id}.html").write_text(str(html))


def deliver(outgoing: Sequence[Outgoing], *, respect_backoff: bool = True) -> Counter[str]:
    """Claim and send each message on one connection; what happened to each, counted."""
    counts: Counter[str] = Counter()
    if not outgoing:
        return counts
    connection = open_connection()
    answered_at = time.monotonic()
    try:
        for item in outgoing:
            # Raises when the server is gone: the rest of the chunk stays pending.
            _ensure_open(connection, idle_seconds=time.monotonic() - answered_at)
            row = item.delivery
            token = claim(row.id, message_id=item.message_id, respect_backoff=respect_backoff)
            if token is None:
                counts["taken"] += 1  # another worker has it, or has sent it
                continue
            counts[_send(connection, item, token)] += 1
            answered_at = time.monotonic()
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
    return counts


def _send(connection: BaseEmailBackend, item: Outgoing, token: UUID) -> str:
    row = item.delivery
    try:
        connection.send_messages([item.message])
    except (ValueError, TypeError) as exc:
        # The message could not be built (a header no server would take): the backend builds
        # it before it talks to the server, so nothing went out; trying again would not help.
        mark_failed(row.id, token, error=f"could not build the message: {exc!r}", retry_in=None)
        metrics.digest(row.kind, "failed")
        return "failed"
    except (smtplib.SMTPException, OSError) as exc:
        code = refusal_code(exc)
        if code is None:
            mark_failed(
                row.id, token, error=OUTCOME_UNKNOWN.format(reason=repr(exc)), retry_in=None
            )
            metrics.digest(row.kind, "unknown")
            return "unknown"
        # Read back: the claim counted this attempt in SQL, whatever this worker last saw.
        attempts = DigestDelivery.objects.values_list("attempts", flat=True).get(pk=row.id)
        retry_in = retry_delay(attempts) if code < 500 else None
        mark_failed(row.id, token, error=f"refused ({code}): {exc}", retry_in=retry_in)
        metrics.digest(row.kind, "retrying" if retry_in is not None else "failed")
        return "retrying" if retry_in is not None else "failed"
    except BaseException as exc:
        # A time limit or a shutdown mid-send: record what we know, then let it stop us.
        mark_failed(row.id, token, error=OUTCOME_UNKNOWN.format(reason=repr(exc)), retry_in=None)
        metrics.digest(row.kind, "unknown")
        raise
    mark_sent(row.id, token)
    metrics.digest(row.kind, "sent")
    _keep_html_copy(connection, item)
    return "sent"
