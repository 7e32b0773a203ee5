"""The account emails: neutral subjects, both parts, escaped names, and how they are sent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from celery.exceptions import Retry
from django.test import TestCase

from accounts import emails
from accounts import services
from accounts import tasks
from accounts import tokens
from accounts.models import EmailVerification
from accounts.models import User
from config.celery import app as celery_app
from tests.accounts.conftest import FRONTEND_URL
from tests.factories import PASSWORD
from tests.factories import UserFactory
from tests.smtp import Mailbox

pytestmark = pytest.mark.django_db

# Words that would tell someone glancing at a shared inbox what Duet is for.
REVEALING = ("therap", "counsel", "couple", "relationship", "session", "partner")


def all_messages(user: User) -> list[tuple[str, object]]:
    verification = EmailVerification.objects.create(
        user=user, email=user.email, purpose="register", expires_at=user.date_joined
    )
    change = EmailVerification.objects.create(
        user=user, email="next@example.com", purpose="email_change", expires_at=user.date_joined
    )
    return [
        ("verify-email", emails.verification_message(verification, "tok")),
        ("email-change-verify", emails.verification_message(change, "tok")),
        ("password-reset", emails.password_reset_message(user)),
        *((name, emails.account_note(name, user)) for name in emails.ACCOUNT_NOTES),
    ]


def test_every_account_email_has_a_neutral_subject_and_both_parts() -> None:
    user = UserFactory.create(display_name="Sam")

    for name, message in all_messages(user):
        subject = message.subject  # type: ignore[attr-defined]
        assert subject.startswith(("Confirm", "About", "A request", "Reset", "Your Duet")), name
        assert not any(word in subject.lower() for word in REVEALING), name
        body = message.body  # type: ignore[attr-defined]
        assert "Hi Sam," in body, name
        assert not any(word in body.lower() for word in REVEALING), name
        (html, mimetype), *_ = message.alternatives  # type: ignore[attr-defined]
        assert mimetype == "text/html"
        assert "Hi Sam," in html, name


def test_every_link_points_to_the_frontend() -> None:
    user = UserFactory.create()

    for name, message in all_messages(user):
        body = message.body  # type: ignore[attr-defined]
        links = re.findall(r"https?://\S+", body)
        assert all(link.startswith(f"{FRONTEND_URL}/") for link in links), name
        assert links or name == "email-taken", name


def test_names_are_escaped_in_the_html_part(mailbox: Mailbox) -> None:
    user = UserFactory.create(display_name='<a href="https://evil.test">Sam</a>')

    emails.account_note("password-changed", user).send()

    received = mailbox.only(user.email)
    assert '<a href="https://evil.test">' not in received.html
    assert "&lt;a href=" in received.html


def test_mail_leaves_only_after_the_transaction_commits(mailbox: Mailbox) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        services.user_register(email="later@example.com", password=PASSWORD, display_name="Later")

    assert mailbox.messages == []
    assert len(callbacks) == 1

    callbacks[0]()

    assert mailbox.only("later@example.com").subject == "Confirm your Duet email address"


def test_account_mail_tasks_go_to_the_email_queue_with_bounded_retries() -> None:
    mail_tasks: list[Any] = [
        tasks.send_verification_email,
        tasks.send_password_reset_email,
        tasks.send_account_note,
    ]
    for task in mail_tasks:
        assert task.name.startswith("accounts.")
        route = celery_app.amqp.router.route({}, task.name)
        assert route["queue"].name == "email"
        assert task.max_retries == tasks.MAX_RETRIES
        assert task.autoretry_for == (OSError,)
        assert task.retry_backoff


def test_a_refused_smtp_connection_is_retried(settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST = "127.0.0.1"  # type: ignore[attr-defined]
    settings.EMAIL_PORT = 9  # type: ignore[attr-defined]  # discard: nothing listens
    settings.EMAIL_TIMEOUT = 1  # type: ignore[attr-defined]
    user = UserFactory.create()

    with pytest.raises(Retry) as retry:
        tasks.send_account_note.apply(args=("password-changed", str(user.pk)), throw=True)

    assert isinstance(retry.value.exc, ConnectionRefusedError)


def test_a_verification_task_writes_the_hash_of_the_token_it_mails(mailbox: Mailbox) -> None:
    user = UserFactory.create(email_verified_at=None)
    verification = EmailVerification.objects.create(
        user=user,
        email=user.email,
        purpose="register",
        expires_at=user.date_joined.replace(year=user.date_joined.year + 1),
    )

    tasks.send_verification_email.delay(str(verification.pk))

    token = mailbox.only(user.email).link_params("/verify")["token"]
    verification.refresh_from_db()
    assert verification.token_hash == tokens.token_hash(token)
