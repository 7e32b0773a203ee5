"""Housekeeping tasks of engagement."""

from __future__ import annotations

from celery import shared_task

from engagement.api.idempotency import purge_expired_idempotency_records


@shared_task(name="engagement.tasks.purge_expired_idempotency_keys", ignore_result=True)
def purge_expired_idempotency_keys() -> int:
    """Idempotency keys are kept 24 h (SPEC section 3)."""
    return purge_expired_idempotency_records()
