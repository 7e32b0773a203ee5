"""The account emails (verification, reset, account notes), built by config.emails.

Subjects and wording stay neutral enough for a shared inbox: nothing in them says therapy.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import EmailVerification
from accounts.models import User
from config.emails import build
from config.emails import frontend_url

# Notes that need nothing but the account they are about.
ACCOUNT_NOTES = ("account-exists", "email-change-notice", "email-taken", "password-changed")


def verification_message(verification: EmailVerification, token: str) -> EmailMultiAlternatives:
    """The link that confirms an address, for a registration or a change of email."""
    name = (
        "verify-email"
        if verification.purpose == EmailVerification.Purpose.REGISTER
        else "email-change-verify"
    )
    return build(
        name,
        to=verification.email,
        context={
            "display_name": verification.user.display_name,
            "url": frontend_url("/verify", token=token),
            "valid_hours": settings.EMAIL_VERIFICATION_TIMEOUT // 3600,
        },
        language=verification.user.language,
    )


def password_reset_message(user: User) -> EmailMultiAlternatives:
    """A single-use reset link valid PASSWORD_RESET_TIMEOUT (one hour).

    Django's generator hashes the password and last login into the token, so the link dies
    as soon as the password changes.
    """
    url = frontend_url(
        "/reset",
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )
    return build(
        "password-reset",
        to=user.email,
        context={"display_name": user.display_name, "url": url},
        language=user.language,
    )


def account_note(name: str, user: User) -> EmailMultiAlternatives:
    """One of ACCOUNT_NOTES, to the account's current address."""
    if name not in ACCOUNT_NOTES:
        raise ValueError(f"Unknown account note: {name}")
    return build(
        name,
        to=user.email,
        context={"display_name": user.display_name, "url": frontend_url("/")},
        language=user.language,
    )
