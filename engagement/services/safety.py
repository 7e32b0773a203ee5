"""Writes of the safety feature (SPEC sections 1, 2 and 6): alerts raised and retracted by a
check-in's `afraid_or_hurt` answer, their acknowledgement, safe contacts and consents.

The alerts are the one record of a safety answer that reaches anyone but its author: reports
count their dates (`unsafe_days`), the caseload orders by the unacknowledged ones. So each
creation or retraction marks its week's report stale, in the writer's transaction.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import CheckIn
from engagement.models import Consent
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.reports.staleness import mark_stale


def _couple_has_therapist(couple_id: UUID) -> bool:
    return Membership.objects.filter(
        couple_id=couple_id, role=Membership.Role.THERAPIST, left_at__isnull=True
    ).exists()


def safety_answer_recorded(*, checkin: CheckIn, before: bool | None, after: bool | None) -> None:
    """React to a check-in's answer going from ``before`` to ``after`` (in the caller's
    transaction): a change to true in a couple with a therapist raises one alert; a change away
    from true retracts the alerts it raised. An answer given while the couple has no therapist
    stays with its author: no alert, now or when a therapist joins later (SPEC section 1)."""
    if before is True and after is not True:
        safety_alerts_retract(checkin=checkin)
    elif before is not True and after is True:
        if not _couple_has_therapist(checkin.couple_id):
            return
        alert = SafetyAlert.objects.create(
            couple_id=checkin.couple_id,
            partner_id=checkin.author_id,
            checkin=checkin,
            date=checkin.date,
        )
        mark_stale(couple_id=checkin.couple_id, dates=[alert.date])
        alert_id = str(alert.pk)
        transaction.on_commit(lambda: _queue_delivery(alert_id))


def _queue_delivery(alert_id: str) -> None:
    from engagement.safety.tasks import send_safety_alert

    send_safety_alert.delay(alert_id)


def safety_alerts_retract(*, checkin: CheckIn) -> int:
    """Retract the open alerts this check-in raised (its answer edited back, or the check-in
    about to be deleted): the alerts and their dates stay, only `retracted_at` is set."""
    alerts = SafetyAlert.objects.filter(checkin=checkin, retracted_at__isnull=True)
    dates = list(alerts.values_list("date", flat=True))
    retracted = alerts.update(retracted_at=timezone.now())
    if dates:
        mark_stale(couple_id=checkin.couple_id, dates=dates)
    return retracted


@transaction.atomic
def safety_alert_acknowledge(*, alert: SafetyAlert, by: User) -> SafetyAlert:
    """The first acknowledgement stands; acknowledging again changes nothing (200 both times)."""
    now = timezone.now()
    SafetyAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by
    )
    alert.refresh_from_db()
    return alert


@transaction.atomic
def safe_contact_put(
    *,
    couple: Couple,
    partner: User,
    phone: str = "",
    email: str = "",
    times: str = "",
    voicemail_ok: bool | None = None,
) -> tuple[SafeContact, bool]:
    """Create or replace the partner's safe contact in the couple (PUT): (contact, created)."""
    values = {"phone": phone, "email": email, "times": times, "voicemail_ok": voicemail_ok}
    contact, created = SafeContact.objects.select_for_update().get_or_create(
        couple=couple, partner=partner, defaults=values
    )
    changed = created or any(getattr(contact, k) != v for k, v in values.items())
    if changed and not created:
        for key, value in values.items():
            setattr(contact, key, value)
        contact.save()
    if changed:
        # The therapists' view of the couple carries it: their clock moves, the partners'
        # (`partner_updated_at`) does not (SPEC section 1, "Derived changes stay invisible").
        Couple.objects.filter(pk=couple.pk).update(updated_at=timezone.now())
    return contact, created


def consent_record(*, user: User, document: str, version: str) -> Consent:
    """Record an acceptance of the data rules; earlier ones stay (a history)."""
    return Consent.objects.create(user=user, document=document, version=version)
