"""Celery tasks that send the invitation emails, on the `email` queue; thin, given ids."""

from __future__ import annotations

from typing import Any

from celery import Task
from celery import shared_task

from config.celery_retry import INVITATION_MAIL_RETRY
from engagement.invitations import emails

# SMTP failures are OSErrors: retry those, a few times, further and further apart.
RETRY: dict[str, Any] = {**INVITATION_MAIL_RETRY, "ignore_result": True}


class _Masked(str):
    """A secret argument whose repr hides it (eager runs log arguments by their repr)."""

    def __repr__(self) -> str:
        return "'<secret>'"


class SecretArgumentsTask(Task):
    """A task whose positional arguments at `secret_positions` never reach the logs.

    Celery logs a task's arguments when it is received, succeeds, fails or retries (the
    project's JSON log formatter prints them). Workers log the message's `argsrepr`, which
    Celery recomputes from the raw arguments on every send, retries included, so it is set here
    on every send; eager runs (tests, scripts) log `repr(args)`, hence the masked strings.
    """

    secret_positions: tuple[int, ...] = ()

    def apply_async(  # type: ignore[override]
        self, args: Any = None, kwargs: Any = None, **options: Any
    ) -> Any:
        if args:
            shown = tuple(
                "<secret>" if i in self.secret_positions else arg for i, arg in enumerate(args)
            )
            options["argsrepr"] = repr(shown)
        return super().apply_async(args, kwargs, **options)

    def apply(  # type: ignore[override]
        self, args: Any = None, kwargs: Any = None, **options: Any
    ) -> Any:
        if args:
            args = tuple(
                _Masked(arg) if i in self.secret_positions else arg for i, arg in enumerate(args)
            )
        return super().apply(args, kwargs, **options)


@shared_task(
    name="engagement.invitations.send_invitation",
    base=SecretArgumentsTask,
    secret_positions=(1,),
    **RETRY,
)
def send_invitation(invitation_id: str, token: str) -> bool:
    """Email the invitation link.

    The raw token travels as a task argument because only its hash is stored and the link
    needs the token itself. The trade-off: it sits in the broker (Redis, or the embedded
    transport under var/) until a worker takes the message, and through its retries; both are
    private to the deployment, and the token is worth no more than the email it goes into
    (single use, 7 days, revocable). It is kept out of the logs (SecretArgumentsTask).
    """
    return emails.send_invitation_email(invitation_id=invitation_id, token=str(token))


@shared_task(name="engagement.invitations.notify_inviter_of_acceptance", **RETRY)
def notify_inviter_of_acceptance(invitation_id: str) -> bool:
    return emails.send_acceptance_email(invitation_id=invitation_id)


@shared_task(name="engagement.invitations.notify_partners_of_therapist", **RETRY)
def notify_partners_of_therapist(invitation_id: str) -> int:
    return emails.send_therapist_joined_emails(invitation_id=invitation_id)
