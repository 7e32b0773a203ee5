"""What a safety alert says, in the recipient's language (SPEC section 6): the email names the
couple and links to the alert and the partner's safe contact, and carries nothing of the
check-in; the push names no one."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext

from accounts.push import Push
from config import emails
from config.emails import frontend_url
from engagement.models import SafetyAlert


def alert_push(language: str) -> Push:
    with translation.override(language):
        return Push(title="Duet", body=gettext("A client needs your attention"), kind="safety")


def alert_email(
    alert: SafetyAlert, *, to: str, language: str, message_id: str, escalation: bool = False
) -> EmailMultiAlternatives:
    """The alert to a therapist (or, ``escalation``, the copy to SAFETY_ESCALATION_EMAIL)."""
    with translation.override(language):
        subject = (
            gettext("Duet: a safety alert has not been acknowledged for 24 hours")
            if escalation
            else gettext("Duet: a safety alert in one of your couples")
        )
    return emails.build(
        "safety-alert",
        to=to,
        context={
            "couple_name": alert.couple.name,
            "alert_url": frontend_url(f"/safety-alerts/{alert.pk}"),
            "safe_contact_url": frontend_url(
                f"/couples/{alert.couple_id}/safe-contact", partner=str(alert.partner_id)
            ),
            "escalation": escalation,
        },
        language=language,
        subject=subject,
        message_id=message_id,
    )
