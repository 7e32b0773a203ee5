"""Background work of accounts: the account emails (queue `email`) and token housekeeping."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from uuid import UUID

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts import emails
from accounts.models import EmailVerification
from accounts.models import User
from accounts.tokens import rotations_purge
from accounts.tokens import token_hash
from config.celery_retry import ACCOUNT_MAIL_RETRY
from config.observability import metrics

# SMTP failures (smtplib.SMTPException is an OSError) and network errors are retried with
# exponential backoff, at most MAX_RETRIES times; anything else is a bug and fails at once.
MAX_RETRIES: int = ACCOUNT_MAIL_RETRY["max_retries"]
UNVERIFIED_RETENTION = timedelta(days=7)
# Mail is retried on connection trouble with growing, jittered pauses, a bounded number of times
# (config/celery_retry.py).
MAIL_TASK_OPTIONS: dict[str, Any] = {"ignore_result": True, **ACCOUNT_MAIL_RETRY}


def _reachable_user(user_id: str) -> User | None:
    """The user, unless the account was erased or disabled since the mail was queued."""
    user = User.objects.filter(pk=UUID(user_id)).first()
    if user is None or user.erased_at is not None or not user.is_active:
        return None
    return user


@shared_task(
    name="accounts.tasks.send_verification_email",
    **MAIL_TASK_OPTIONS,
)
def send_verification_email(verification_id: str) -> None:
    """Make the link's token here, so it never travels through the broker; store its hash."""
    verification = (
        EmailVerification.objects.select_related("user")
        .filter(pk=UUID(verification_id), expires_at__gt=timezone.now())
        .first()
    )
    if verification is None or _reachable_user(str(verification.user_id)) is None:
        return
    token = secrets.token_urlsafe(32)
    # A retry replaces the hash: only the link in the mail that actually left works.
    verification.token_hash = token_hash(token)
    verification.save(update_fields=["token_hash"])
    emails.verification_message(verification, token).send()
    metrics.account_email("verification")


@shared_task(
    name="accounts.tasks.send_password_reset_email",
    **MAIL_TASK_OPTIONS,
)
def send_password_reset_email(user_id: str) -> None:
    user = _reachable_user(user_id)
    if user is not None:
        emails.password_reset_message(user).send()
        metrics.account_email("password_reset")


@shared_task(
    name="accounts.tasks.send_account_note",
    **MAIL_TASK_OPTIONS,
)
def send_account_note(name: str, user_id: str) -> None:
    """One of emails.ACCOUNT_NOTES to the user's current address."""
    user = _reachable_user(user_id)
    if user is not None:
        emails.account_note(name, user).send()
        metrics.account_email("account_note")


@shared_task(name="accounts.tasks.flush_expired_tokens", ignore_result=True)
def flush_expired_tokens() -> None:
    """Daily housekeeping: expired refresh tokens, rotation records and verification links, and
    registrations nobody confirmed within a week (docs/privacy.md)."""
    # Imported here: services import this module to queue their mails.
    from accounts.services import unverified_users_purge

    call_command("flushexpiredtokens")
    rotations_purge()
    EmailVerification.objects.filter(expires_at__lt=timezone.now()).delete()
    unverified_users_purge(
        older_than=max(UNVERIFIED_RETENTION, timedelta(seconds=settings.EMAIL_VERIFICATION_TIMEOUT))
    )
