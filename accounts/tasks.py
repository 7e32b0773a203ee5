"""Background work of accounts: housekeeping of the JWT blacklist."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(name="accounts.tasks.flush_expired_tokens", ignore_result=True)
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the blacklist tables."""
    call_command("flushexpiredtokens")
