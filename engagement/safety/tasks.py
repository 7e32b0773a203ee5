"""Celery tasks of the safety alerts, on the `email` queue: thin, given ids, safe to run twice
(the ledger sends each alert once per therapist and round)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from config.celery_retry import ALERT_RETRY
from engagement.chunks import PLANNER_TASK_OPTIONS
from engagement.models import SafetyAlertDelivery
from engagement.safety import delivery


@shared_task(
    name="engagement.safety.tasks.send_safety_alert",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    **ALERT_RETRY,
)
def send_safety_alert(alert_id: str, round: int = SafetyAlertDelivery.INITIAL) -> dict[str, int]:
    """Send one round of one alert to the couple's therapists (queued on the alert's commit)."""
    return dict(delivery.send_round(alert_id, round=round))


@shared_task(name="engagement.safety.tasks.sweep_safety_alerts", **PLANNER_TASK_OPTIONS)
def sweep_safety_alerts() -> int:
    """Every few minutes (beat): resend what stayed unacknowledged for 24 hours, send what was
    never picked up, and give up claims whose worker died (outcome unknown, for operators)."""
    now = timezone.now()
    delivery.release_abandoned_claims(now=now)
    queued = 0
    for alert_id in delivery.never_planned(now=now).values_list("id", flat=True):
        send_safety_alert.delay(str(alert_id))
        queued += 1
    stranded = delivery.stranded_pending(now=now).values_list("alert_id", "round").distinct()
    for alert_id, round in stranded:
        send_safety_alert.delay(str(alert_id), round)
        queued += 1
    for alert_id in delivery.due_for_resend(now=now).values_list("id", flat=True):
        send_safety_alert.delay(str(alert_id), SafetyAlertDelivery.REMINDER)
        queued += 1
    return queued


@shared_task(name="engagement.safety.tasks.purge_clinical_records", **PLANNER_TASK_OPTIONS)
def purge_clinical_records() -> int:
    """Daily (beat): the clinical record of partners erased longer than
    CLINICAL_RETENTION_YEARS ago goes (nothing to do with the default 0: it went at erasure)."""
    from engagement.privacy.erasure import clinical_records_purge

    return clinical_records_purge(now=timezone.now())
