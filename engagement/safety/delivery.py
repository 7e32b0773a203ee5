"""Exactly-once safety alert sends: a ledger row per (alert, recipient, round), claimed before
anything goes out (the pattern of engagement/digests/delivery.py; docs/safety.md, "Delivery").

- Round 1, when the alert is raised: one row per therapist of the couple at that moment.
  Round 2, when it is still unacknowledged 24 hours later: again one per therapist, and one for
  the copy to SAFETY_ESCALATION_EMAIL when set. The unique keys make a second plan a no-op, so
  a retried PUT, a task that runs twice or two workers racing send nothing twice.
- A worker sends only after winning a compare-and-set UPDATE from pending to claimed.
- A server refusing the message for now (4xx) leaves it pending, for the sweep to try again
  (up to MAX_ATTEMPTS; the push is not repeated); a permanent refusal (5xx), or anything else
  mid-send, leaves the row failed with its error; a worker that died between claim and record
  leaves a claim released as failed, outcome unknown, after CLAIM_TIMEOUT. Such rows are never
  resent automatically (a doubled alert to a therapist is noise, a lost one is not silent):
  `/readyz` reports them
  (`safety_alerts_unsent`), the admin lists them, and the metric `duet_messages{stream="alert"}`
  counts them, for an operator to act on.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import uuid
from collections import Counter
from email.utils import make_msgid
from uuid import UUID

from django.conf import settings
from django.db.models import F
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Device
from accounts.push import push_send
from config.emails import message_id_domain
from config.observability import metrics
from engagement.digests.delivery import CLAIM_TIMEOUT
from engagement.digests.delivery import open_connection
from engagement.digests.delivery import refusal_code
from engagement.models import Membership
from engagement.models import SafetyAlert
from engagement.models import SafetyAlertDelivery
from engagement.safety import texts

Status = SafetyAlertDelivery.Status

RESEND_AFTER = dt.timedelta(hours=24)
# A message the server refuses for now (4xx) is tried again by the sweep, this many times in all.
MAX_ATTEMPTS = 5
# A pending row this old was never picked up (the broker was away when the alert was raised):
# the beat sweep sends it.
PENDING_GRACE = dt.timedelta(minutes=2)
# A pending row still unsent this long after it was planned, the sweep having had its chances.
UNSENT_AFTER = dt.timedelta(minutes=15)
OUTCOME_UNKNOWN = (
    "outcome unknown: {reason}. It may have reached the recipient; not resent automatically. "
    "Look for the Message-ID in the mail server's log, and make sure the therapist knows."
)


def plan(alert: SafetyAlert, *, round: int) -> int:
    """Create the pending rows of this round (the couple's therapists now; the escalation copy
    in round 2 when configured). Idempotent. Returns how many rows the round holds."""
    therapists = Membership.objects.filter(
        couple_id=alert.couple_id, role=Membership.Role.THERAPIST, left_at__isnull=True
    ).values_list("user_id", flat=True)
    domain = message_id_domain()
    rows = [
        SafetyAlertDelivery(
            alert=alert, round=round, recipient_id=user_id, message_id=make_msgid(domain=domain)
        )
        for user_id in therapists
    ]
    if round == SafetyAlertDelivery.REMINDER and settings.SAFETY_ESCALATION_EMAIL:
        rows.append(
            SafetyAlertDelivery(
                alert=alert,
                round=round,
                address=settings.SAFETY_ESCALATION_EMAIL,
                message_id=make_msgid(domain=domain),
            )
        )
    SafetyAlertDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return SafetyAlertDelivery.objects.filter(alert=alert, round=round).count()


def claim(row_id: UUID) -> UUID | None:
    """Take the row for this worker: the claim token when the UPDATE won, None otherwise."""
    now = timezone.now()
    token = uuid.uuid4()
    won = SafetyAlertDelivery.objects.filter(pk=row_id, status=Status.PENDING).update(
        status=Status.CLAIMED,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    return token if won == 1 else None


def _outcome_unknown(exc: BaseException) -> str:
    """The error of a send that raised: whether it went out is unknown."""
    return OUTCOME_UNKNOWN.format(reason=repr(exc))


def _settle(row_id: UUID, token: UUID, *, status: str, error: str = "", push: str = "") -> None:
    now = timezone.now()
    SafetyAlertDelivery.objects.filter(pk=row_id, claim_token=token).update(
        status=status,
        sent_at=now if status == Status.SENT else None,
        error=error[:2000],
        push_outcome=push[:200],
        updated_at=now,
    )


def _push(row: SafetyAlertDelivery) -> str:
    """The push to the therapist's devices, naming no one; what happened, for the ledger."""
    assert row.recipient is not None
    devices = list(Device.objects.filter(user=row.recipient))
    if not devices:
        return "no devices"
    counts = push_send(devices, texts.alert_push(row.recipient.language))
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _send(row: SafetyAlertDelivery, token: UUID) -> str:
    alert = row.alert
    escalation = row.recipient is None
    to = row.address if escalation else row.recipient.email  # type: ignore[union-attr]
    language = settings.LANGUAGE_CODE if escalation else row.recipient.language  # type: ignore[union-attr]
    message = texts.alert_email(
        alert,
        to=to,
        language=language,
        message_id=row.message_id,
        escalation=escalation or row.round == SafetyAlertDelivery.REMINDER,
    )
    push = row.push_outcome
    try:
        if not escalation and not push:
            # The push first (once: not again when the email is retried): a lock screen is
            # the quickest way to reach someone.
            push = _push(row)
        connection = open_connection()
        try:
            message.connection = connection
            message.send()
        finally:
            connection.close()
    except (smtplib.SMTPException, OSError) as exc:
        code = refusal_code(exc)
        if code is not None and code < 500 and row.attempts + 1 < MAX_ATTEMPTS:
            # Refused for now (4xx), so not delivered: pending again, for the next sweep.
            _settle(
                row.id, token, status=Status.PENDING, error=f"refused ({code}): {exc}", push=push
            )
            metrics.message("alert", "safety", "retrying")
            return "retrying"
        error = f"refused ({code}): {exc}" if code is not None else _outcome_unknown(exc)
        _settle(row.id, token, status=Status.FAILED, error=error, push=push)
        metrics.message("alert", "safety", "failed" if code is not None else "unknown")
        return "failed"
    except BaseException as exc:
        _settle(row.id, token, status=Status.FAILED, error=_outcome_unknown(exc), push=push)
        metrics.message("alert", "safety", "unknown")
        raise
    _settle(row.id, token, status=Status.SENT, push=push)
    metrics.message("alert", "safety", "sent")
    return "sent"


def deliver(rows: QuerySet[SafetyAlertDelivery]) -> Counter[str]:
    """Claim and send each pending row; what happened to each, counted."""
    counts: Counter[str] = Counter()
    for row in rows.filter(status=Status.PENDING).select_related("alert__couple", "recipient"):
        token = claim(row.id)
        if token is None:
            counts["taken"] += 1
            continue
        counts[_send(row, token)] += 1
    return counts


def send_round(alert_id: UUID | str, *, round: int) -> Counter[str]:
    """Plan and send one round of one alert; safe to run twice."""
    alert = SafetyAlert.objects.select_related("couple").filter(pk=alert_id).first()
    if alert is None:
        return Counter()  # erased since
    plan(alert, round=round)
    return deliver(SafetyAlertDelivery.objects.filter(alert=alert, round=round))


def due_for_resend(*, now: dt.datetime) -> QuerySet[SafetyAlert]:
    """Alerts unacknowledged 24 hours after they were raised, not yet sent again."""
    return SafetyAlert.objects.filter(
        acknowledged_at__isnull=True, created_at__lte=now - RESEND_AFTER
    ).exclude(deliveries__round=SafetyAlertDelivery.REMINDER)


def never_planned(*, now: dt.datetime) -> QuerySet[SafetyAlert]:
    """Alerts whose first round was never planned (the broker was away at the commit)."""
    return SafetyAlert.objects.filter(created_at__lte=now - PENDING_GRACE).exclude(
        deliveries__round=SafetyAlertDelivery.INITIAL
    )


def stranded_pending(*, now: dt.datetime) -> QuerySet[SafetyAlertDelivery]:
    """Rows planned but never claimed (their task was lost): safe to send, nothing went out."""
    return SafetyAlertDelivery.objects.filter(
        status=Status.PENDING, created_at__lte=now - PENDING_GRACE
    )


def release_abandoned_claims(*, now: dt.datetime) -> int:
    """Claims older than CLAIM_TIMEOUT: their worker died between claim and record. The mail
    may have gone, so they become failed, outcome unknown, for an operator."""
    released = SafetyAlertDelivery.objects.filter(
        status=Status.CLAIMED, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(
        status=Status.FAILED,
        error=OUTCOME_UNKNOWN.format(reason="the worker stopped between claim and record"),
        updated_at=now,
    )
    metrics.message("alert", "safety", "unknown", released)
    return released


def unsent(*, now: dt.datetime) -> QuerySet[SafetyAlertDelivery]:
    """What operators must look at: rows failed, or pending or claimed for too long."""
    return SafetyAlertDelivery.objects.filter(
        Q(status=Status.FAILED)
        | Q(status=Status.PENDING, created_at__lte=now - UNSENT_AFTER)
        | Q(status=Status.CLAIMED, claimed_at__lt=now - CLAIM_TIMEOUT)
    )
