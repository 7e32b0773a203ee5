"""Composition of the account emails: plain text and HTML from templates, links to the apps.

Subjects and wording stay neutral enough for a shared inbox: nothing in them says therapy.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import EmailVerification, User

# Notes that need nothing but the account they are about.
ACCOUNT_NOTES = ("account-exists", "email-change-notice", "email-taken", "password-changed")


def frontend_link(path: str, **params: str) -> str:
    """A link into the apps (SPEC section 3: `/verify?token=`, `/reset?uid=&token=`)."""
    query = f"?{urlencode(params)}" if params else ""
    return f"{settings.FRONTEND_URL}{path}{query}"


def compose(
    name: str, *, to: str, context: dict[str, Any], language: str = "en"
) -> EmailMultiAlternatives:
    """The message built from `emails/<name>-subject.txt`, `-body.txt` and `-body.html`, in
    the recipient's language (SPEC section 3)."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [to],
        headers={"Content-Language": language},
    )
    message.attach_alternative(html, "text/html")
    return message


def verification_message(verification: EmailVerification, token: str) -> EmailMultiAlternatives:
    """The link that confirms an address, for a registration or a change of email."""
    name = (
        "verify-email"
        if verification.purpose == EmailVerification.Purpose.REGISTER
        else "email-change-verify"
    )
    return compose(
        name,
        to=verification.email,
        context={
            "display_name": verification.user.display_name,
            "url": frontend_link("/verify", token=token),
            "valid_hours": settings.EMAIL_VERIFICATION_TIMEOUT // 3600,
        },
        language=verification.user.language,
    )


def password_reset_message(user: User) -> EmailMultiAlternatives:
    """A single-use reset link valid PASSWORD_RESET_TIMEOUT (one hour).

    Django's generator hashes the password and last login into the token, so the link dies
    as soon as the password changes.
    """
    url = frontend_link(
        "/reset",
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )
    return compose(
        "password-reset",
        to=user.email,
        context={"display_name": user.display_name, "url": url},
        language=user.language,
    )


def account_note(name: str, user: User) -> EmailMultiAlternatives:
    """One of ACCOUNT_NOTES, to the account's current address."""
    if name not in ACCOUNT_NOTES:
        raise ValueError(f"Unknown account note: {name}")
    return compose(
        name,
        to=user.email,
        context={"display_name": user.display_name, "url": frontend_link("/")},
        language=user.language,
    )
