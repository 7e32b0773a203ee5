"""What a reminder says, in the recipient's language: neutral, no names, no figures, fit for a
lock screen or a shared inbox (SPEC section 6)."""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from accounts.push import Push
from engagement.digests.delivery import message_id_domain
from engagement.digests.unsubscribe import Kind, unsubscribe_url


def reminder_push(language: str) -> Push:
    with translation.override(language):
        return Push(title="Duet", body=gettext("Time for your Duet check-in"))


def reminder_email(user: User) -> EmailMultiAlternatives:
    """The reminder by email, with a one-click unsubscribe that turns `reminder_email` off."""
    link = unsubscribe_url(user.id, kind=Kind.REMINDER)
    context = {"url": f"{settings.FRONTEND_URL}/", "unsubscribe_url": link}
    with translation.override(user.language):
        subject = gettext("Time for your Duet check-in")
        text = render_to_string("emails/reminder-body.txt", context)
        html = render_to_string("emails/reminder-body.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        headers={
            "Message-ID": make_msgid(domain=message_id_domain()),
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": user.language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message
