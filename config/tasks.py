"""Operational tasks of the project itself: a heartbeat that proves a worker is consuming."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "worker-heartbeat"


@shared_task(name="config.tasks.heartbeat", ignore_result=True)
def heartbeat(token: str = "") -> str:
    """Record when a worker last ran a task (and for whom), for readiness checks and tests."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, {"at": stamp, "token": token}, timeout=24 * 3600)
    if token:
        # Its own key too, so a concurrent beat heartbeat cannot overwrite a caller's proof.
        cache.set(f"{HEARTBEAT_CACHE_KEY}:{token}", stamp, timeout=3600)
    return stamp
