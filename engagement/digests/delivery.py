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
from collections import deque
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from functools import cached_property
from functools import partial
from pathlib import Path
from typing import Literal
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPEmailBackend
from django.core.mail.message import SafeMIMEMultipart
from django.core.mail.message import SafeMIMEText
from django.db.models import Case
from django.db.models import CharField
from django.db.models import DateTimeField
from django.db.models import F
from django.db.models import Q
from django.db.models import TextField
from django.db.models import Value
from django.db.models import When
from django.utils import timezone

from config import smtp
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
    render: Callable[[], EmailMultiAlternatives]  # the message, built when it is to be sent
    message_id: str  # also in the message's headers
    # Parts of ``render`` that may be done ahead, in order, each a step short enough to fill
    # a wait for the server (the templates, say); each keeps what it made for ``render``.
    prepare: tuple[Callable[[], object], ...] = ()

    @cached_property
    def message(self) -> EmailMultiAlternatives:
        return self.render()


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


def _claimable(*, now: dt.datetime, respect_backoff: bool) -> Q:
    """`is_claimable` as a filter."""
    retryable = Q(status=Status.FAILED, next_attempt_at__isnull=False)
    if respect_backoff:
        retryable &= Q(next_attempt_at__lte=now)
    return Q(status=Status.PENDING) | retryable


def _claimed(token: UUID, *, now: dt.datetime, **also: object) -> dict[str, object]:
    """What a claim writes on a row (``also``: more columns)."""
    return {
        "status": Status.CLAIMED,
        "claim_token": token,
        "claimed_at": now,
        "attempts": F("attempts") + 1,
        "next_attempt_at": None,
        **also,
        "updated_at": now,
    }


def claim(delivery_id: UUID, *, message_id: str, respect_backoff: bool = True) -> UUID | None:
    """Take the row for this worker: the claim token when the UPDATE won, None otherwise."""
    now = timezone.now()
    token = uuid.uuid4()
    won = DigestDelivery.objects.filter(
        _claimable(now=now, respect_backoff=respect_backoff), pk=delivery_id
    ).update(**_claimed(token, now=now, message_id=message_id))
    return token if won == 1 else None


def mark_sent(delivery_ids: Collection[UUID], token: UUID) -> None:
    """Rows whose message the server took (a chunk's at once: `mark_sent_many`)."""
    mark_sent_many(delivery_ids, token)


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


def mark_skipped(reasons: Mapping[UUID, str]) -> int:
    """Digests that will not be sent this week (their report never came, or nothing to
    summarise), each with why: one statement for a chunk's, however many. Only rows still
    pending are skipped; how many were is returned."""
    if not reasons:
        return 0
    return DigestDelivery.objects.filter(pk__in=list(reasons), status=Status.PENDING).update(
        status=Status.SKIPPED,
        error=Case(
            *(When(pk=pk, then=Value(reason[:2000])) for pk, reason in reasons.items()),
            output_field=TextField(),
        ),
        updated_at=timezone.now(),
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
    message, marked outcome unknown, never a second copy; a connection seen to close (a
    dropped connection, a 421) is opened again at once.
    """
    if not isinstance(connection, SMTPEmailBackend):
        return
    if connection.connection is not None:
        if connection.connection.sock is not None and idle_seconds < IDLE_CHECK_SECONDS:
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


def claim_chunk(
    outgoing: Sequence[Outgoing], *, respect_backoff: bool = True
) -> tuple[UUID, set[UUID]]:
    """Take every row of the chunk that is still claimable, in one UPDATE under one claim
    token; (the token, the ids won). Two queries (the UPDATE, then the ids that carry the
    token), and a third only for rows whose Message-ID changes (rows from before every row got
    one when created)."""
    now = timezone.now()
    token = uuid.uuid4()
    ids = [item.delivery.id for item in outgoing]
    DigestDelivery.objects.filter(
        _claimable(now=now, respect_backoff=respect_backoff), pk__in=ids
    ).update(**_claimed(token, now=now))
    won = set(DigestDelivery.objects.filter(claim_token=token).values_list("pk", flat=True))
    new_ids = {
        item.delivery.id: item.message_id
        for item in outgoing
        if item.delivery.id in won and item.message_id != item.delivery.message_id
    }
    if new_ids:
        DigestDelivery.objects.filter(pk__in=new_ids, claim_token=token).update(
            message_id=Case(
                *(When(pk=pk, then=Value(mid)) for pk, mid in new_ids.items()),
                output_field=CharField(),
            )
        )
    return token, won


def mark_sent_many(ids: Collection[UUID], token: UUID) -> None:
    """The chunk's sent rows, in one UPDATE. Matched on the token alone: if a slow chunk
    outlived CLAIM_TIMEOUT and its rows were given up as unknown meanwhile, this worker still
    knows best that the server took them."""
    if not ids:
        return
    now = timezone.now()
    DigestDelivery.objects.filter(pk__in=list(ids), claim_token=token).update(
        status=Status.SENT, sent_at=now, error="", updated_at=now
    )


@dataclass(frozen=True)
class Failure:
    error: str
    retry_in: dt.timedelta | None


def mark_failed_many(failures: dict[UUID, Failure], token: UUID) -> None:
    """The chunk's failed rows, each with its error and retry time, in one UPDATE."""
    if not failures:
        return
    now = timezone.now()
    DigestDelivery.objects.filter(
        pk__in=list(failures), claim_token=token, status=Status.CLAIMED
    ).update(
        status=Status.FAILED,
        next_attempt_at=Case(
            *(
                When(pk=pk, then=Value(now + f.retry_in))
                for pk, f in failures.items()
                if f.retry_in is not None
            ),
            default=Value(None),
            output_field=DateTimeField(),
        ),
        error=Case(
            *(When(pk=pk, then=Value(f.error[:2000])) for pk, f in failures.items()),
            output_field=TextField(),
        ),
        updated_at=now,
    )


def release_unattempted(ids: Collection[UUID], token: UUID) -> None:
    """Claimed rows the chunk never tried to send (the server went away first): pending again,
    their attempt not counted, for the chunk's next run."""
    if not ids:
        return
    DigestDelivery.objects.filter(
        pk__in=list(ids), claim_token=token, status=Status.CLAIMED
    ).update(
        status=Status.PENDING,
        claim_token=None,
        claimed_at=None,
        attempts=F("attempts") - 1,
        updated_at=timezone.now(),
    )


def deliver(outgoing: Sequence[Outgoing], *, respect_backoff: bool = True) -> Counter[str]:
    """Claim the chunk in one statement, send each message on one SMTP connection, then record
    the outcomes: one statement for the sent, one for the failed (issue 20). What happened to
    each, counted.

    The messages are rendered while the server answers (`_Ahead`, `config/smtp.py`): a step
    of the next message's rendering whenever a reply is awaited (to MAIL, RCPT, DATA, or the
    verdict on the message before), and what is left of it when its turn comes. A verdict is
    read before anything more is said on the connection.

    Never twice still holds: a row is claimed before its message leaves, and a worker killed
    before the record leaves the chunk's rows claimed, which `release_abandoned_claims` marks
    failed, outcome unknown, for an operator; none is ever sent again by itself. Such a kill now
    leaves the whole chunk in doubt rather than one message (the operator finds by Message-ID
    which went out). An exception that lets this worker record (a time limit, a shutdown, the
    server gone, a rendering bug) records what it knows: the sent as sent, those never tried as
    pending again, and the message in flight by its verdict, read first when the exception is
    an ordinary one (Celery's soft time limit is), else as unknown."""
    counts: Counter[str] = Counter()
    if not outgoing:
        return counts
    connection = open_connection()  # raises before anything is claimed
    sent: list[UUID] = []
    failures: dict[UUID, Failure] = {}
    token: UUID | None = None
    pending: set[UUID] = set()
    in_flight: Outgoing | None = None  # written to the server, its verdict not read yet
    answered_at = time.monotonic()

    def settle(meanwhile: smtp.Meanwhile) -> None:
        nonlocal in_flight, answered_at
        if in_flight is not None:
            item, in_flight = in_flight, None
            _tally(item, _finish(connection, item, failures, meanwhile), sent, counts)
            answered_at = time.monotonic()

    try:
        token, won = claim_chunk(outgoing, respect_backoff=respect_backoff)
        counts["taken"] += len(outgoing) - len(won)  # another worker has it, or has sent it
        pending = set(won)
        ahead = _Ahead(connection, [item for item in outgoing if item.delivery.id in won])
        for item in ahead.items:
            row = item.delivery
            # What is left of its rendering, done while the server takes the message before;
            # a rendering error leaves this row and the rest untried (pending again).
            envelope = ahead.take(failures)
            settle(ahead.step)  # rendering the message after it while the server decides
            if envelope is None:  # could not be built: nothing went out
                pending.discard(row.id)
                _tally(item, "failed", sent, counts)
                continue
            # Raises when the server is gone: the rest of the chunk goes back to pending.
            _ensure_open(connection, idle_seconds=time.monotonic() - answered_at)
            pending.discard(row.id)
            outcome = _start(connection, item, envelope, failures, meanwhile=ahead.step)
            if outcome == IN_FLIGHT:
                in_flight = item
            else:
                _tally(item, outcome, sent, counts)
                answered_at = time.monotonic()
        settle(smtp.nothing)
    except Exception:
        settle(smtp.nothing)  # a bug, a time limit, the server gone: a verdict owed is read first
        raise
    except BaseException as exc:
        if in_flight is not None:  # the process is stopping: no time to read it
            failures[in_flight.delivery.id] = Failure(
                OUTCOME_UNKNOWN.format(reason=repr(exc)), None
            )
            metrics.digest(in_flight.delivery.kind, "unknown")
        raise
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
        if token is not None:
            _record(token, sent, failures, pending)
    return counts


def _tally(item: Outgoing, outcome: str, sent: list[UUID], counts: Counter[str]) -> None:
    if outcome == "sent":
        sent.append(item.delivery.id)
    counts[outcome] += 1


def _record(
    token: UUID, sent: list[UUID], failures: dict[UUID, Failure], pending: set[UUID]
) -> None:
    refused = [pk for pk, f in failures.items() if f.retry_in is not None]
    if refused:
        # The claim counted this attempt in SQL, whatever this worker last saw: the backoff
        # follows the attempts read back.
        attempts = dict(DigestDelivery.objects.filter(pk__in=refused).values_list("pk", "attempts"))
        for pk in refused:
            delay = retry_delay(attempts.get(pk, MAX_ATTEMPTS))
            failures[pk] = Failure(failures[pk].error, delay)
    mark_sent(sent, token)
    mark_failed_many(failures, token)
    release_unattempted(pending, token)


# `_start`'s outcome for a message written whole to the server, its verdict not read yet.
IN_FLIGHT = "in_flight"


class _Unbuildable(Exception):
    """The message was rendered but cannot be built into bytes (a header no server would take):
    a failure of that message, where any other error while rendering is a bug."""

    def __init__(self, error: ValueError | TypeError) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class _Rendering:
    """A message being rendered ahead, step by step; the error of a step kept for its turn."""

    item: Outgoing
    steps: list[Callable[[], object]]
    error: Exception | None = None
    mime: SafeMIMEText | SafeMIMEMultipart | None = None
    envelope: smtp.Envelope | Literal[True] | None = None

    def advance(self) -> None:
        step = self.steps.pop(0)
        try:
            step()
        except Exception as exc:
            self.error = exc
            self.steps.clear()


class _Ahead:
    """The chunk's messages rendered ahead of the one being sent, a step at a time.

    `step`, called while the server answers (`smtp.start`'s and `smtp.finish`'s
    ``meanwhile``), does the next step of the first message not yet rendered, at most DEPTH
    messages ahead: its ``prepare`` steps (its templates), then its MIME message, then, for
    SMTP, its bytes. `take` does what is left of a message's steps when its turn comes. An
    error in a step is kept for `take` to raise, so that the conversation about the message
    before goes on as if nothing happened; interrupts (a shutdown) are not kept."""

    DEPTH = 2  # three measured no faster (docs/benchmarks.md, session 8)

    def __init__(self, connection: BaseEmailBackend, items: Sequence[Outgoing]) -> None:
        self.items = items
        self._connection = connection
        self._ahead: deque[_Rendering] = deque()
        self._started = 0  # how many of the items have been started

    def step(self) -> bool:
        """One step; False when none is left within DEPTH."""
        rendering = next((r for r in self._ahead if r.steps), None)
        if rendering is None:
            if len(self._ahead) >= self.DEPTH or self._started >= len(self.items):
                return False
            rendering = self._start()
        rendering.advance()
        return True

    def take(self, failures: dict[UUID, Failure]) -> smtp.Envelope | Literal[True] | None:
        """The next of `items` rendered and, for SMTP, its bytes: the envelope (True for the
        other backends, which build it as they send); None, the failure noted, when it cannot
        be built."""
        if not self._ahead:
            self._start()
        rendering = self._ahead.popleft()
        while rendering.steps:
            rendering.advance()
        if isinstance(rendering.error, _Unbuildable):
            _unbuildable(rendering.item, rendering.error.error, failures)
            return None
        if rendering.error is not None:
            raise rendering.error  # a bug: it propagates
        return rendering.envelope

    def _start(self) -> _Rendering:
        item = self.items[self._started]
        self._started += 1
        rendering = _Rendering(item, [*item.prepare])
        rendering.steps += [partial(self._mime, rendering), partial(self._build, rendering)]
        self._ahead.append(rendering)
        return rendering

    def _mime(self, rendering: _Rendering) -> None:
        message = rendering.item.message  # renders it: an error here is a bug
        if isinstance(self._connection, SMTPEmailBackend):
            try:
                rendering.mime = message.message()
            except (ValueError, TypeError) as exc:  # a header no server would take
                raise _Unbuildable(exc) from exc

    def _build(self, rendering: _Rendering) -> None:
        if not isinstance(self._connection, SMTPEmailBackend):
            rendering.envelope = True
            return
        try:
            rendering.envelope = smtp.Envelope.of(rendering.item.message, rendering.mime)
        except (ValueError, TypeError) as exc:
            raise _Unbuildable(exc) from exc


def _start(
    connection: BaseEmailBackend,
    item: Outgoing,
    envelope: smtp.Envelope | Literal[True],
    failures: dict[UUID, Failure],
    *,
    meanwhile: smtp.Meanwhile,
) -> str:
    """Send one claimed message: over SMTP up to its final dot (IN_FLIGHT, its verdict for
    `_finish`), ``meanwhile`` done while the server answers each command; through any other
    backend whole. An outcome now when the server refused it or went away, with the failure
    noted in ``failures`` (recorded with the chunk's)."""
    try:
        if isinstance(envelope, smtp.Envelope):
            smtp.start(_wire(connection), envelope, meanwhile=meanwhile)
            return IN_FLIGHT
        connection.send_messages([item.message])
    except (ValueError, TypeError) as exc:
        # Another backend building the message: it does so before it sends anything.
        return _unbuildable(item, exc, failures)
    except BaseException as exc:
        return _failed(item, exc, failures)
    _keep_html_copy(connection, item)
    metrics.digest(item.delivery.kind, "sent")
    return "sent"


def _finish(
    connection: BaseEmailBackend,
    item: Outgoing,
    failures: dict[UUID, Failure],
    meanwhile: smtp.Meanwhile,
) -> str:
    """The server's verdict on a message in flight, ``meanwhile`` done while it decides:
    "sent", or what `_failed` makes of it."""
    try:
        smtp.finish(_wire(connection), meanwhile=meanwhile)
    except BaseException as exc:
        return _failed(item, exc, failures)
    metrics.digest(item.delivery.kind, "sent")
    return "sent"


def _unbuildable(item: Outgoing, exc: Exception, failures: dict[UUID, Failure]) -> str:
    """A message that could not be built (a header no server would take): nothing went out,
    and trying again would not help."""
    failures[item.delivery.id] = Failure(f"could not build the message: {exc!r}", None)
    metrics.digest(item.delivery.kind, "failed")
    return "failed"


def _wire(connection: BaseEmailBackend) -> smtplib.SMTP:
    """The SMTP backend's connection (`_ensure_open` opened it)."""
    wire = getattr(connection, "connection", None)
    if not isinstance(wire, smtplib.SMTP):
        raise smtplib.SMTPServerDisconnected("not connected")
    return wire


def _failed(item: Outgoing, exc: BaseException, failures: dict[UUID, Failure]) -> str:
    """What a send that raised means, noted in ``failures``: refused with a code (retried
    later on a 4xx, failed on a 5xx), else unknown (the server may have taken it). Anything
    but the server's error (a time limit, a shutdown) is noted unknown and raised again."""
    row = item.delivery
    code = refusal_code(exc) if isinstance(exc, smtplib.SMTPException | OSError) else None
    if code is None:
        failures[row.id] = Failure(OUTCOME_UNKNOWN.format(reason=repr(exc)), None)
        metrics.digest(row.kind, "unknown")
        if not isinstance(exc, smtplib.SMTPException | OSError):
            raise exc
        return "unknown"
    # The claim counted this attempt; the delay is worked out again from the attempts read
    # back when the chunk is recorded (`_record`).
    retry_in = retry_delay(row.attempts + 1) if code < 500 else None
    failures[row.id] = Failure(f"refused ({code}): {exc}", retry_in)
    outcome = "retrying" if retry_in is not None else "failed"
    metrics.digest(row.kind, outcome)
    return outcome
