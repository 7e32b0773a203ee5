"""What a reminder says, in the recipient's language: neutral, no names, no figures, fit for a
lock screen or a shared inbox (SPEC section 6)."""

from __future__ import annotations

from email.utils import make_msgid

from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from accounts.push import Push
from config import emails
from config.emails import frontend_url
from engagement.digests.unsubscribe import Kind
from engagement.digests.unsubscribe import unsubscribe_url


def reminder_push(language: str) -> Push:
    with translation.override(language):
        return Push(title="Duet", body=gettext("Time for your Duet check-in"))


def reminder_email(user: User) -> EmailMultiAlternatives:
    """The reminder by email, with a one-click unsubscribe that turns `reminder_email` off."""
    link = unsubscribe_url(user.id, kind=Kind.REMINDER)
    with translation.override(user.language):
        subject = gettext("Time for your Duet check-in")
    return emails.build(
        "reminder",
        to=user.email,
        context={"url": frontend_url("/"), "unsubscribe_url": link},
        language=user.language,
        subject=subject,
        message_id=make_msgid(domain=emails.message_id_domain()),
        unsubscribe_url=link,
    )
