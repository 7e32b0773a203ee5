"""Signed one-click unsubscribe links (RFC 8058) and what following one does: the weekly
digest, or the check-in reminders by email."""

# The token is the user's id (and, for anything but the digest, the kind of email) signed with
# SECRET_KEY under its own salt, so a token made for anything else never unsubscribes anyone.
# A digest token is the bare id, as it always was, so links in older digests keep working.
# It does not expire: an email read months later must still unsubscribe in one click, and the
# worst a leaked token can do is turn that email off, which the user can turn back on in the
# app. Rotating SECRET_KEY (with the old key
# in SECRET_KEY_FALLBACKS for a while) is the way to retire every link at once.

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

SALT = "engagement.digests.unsubscribe"


class Kind(StrEnum):
    """What a link unsubscribes from, and the preference it turns off."""

    DIGEST = "digest"
    REMINDER = "reminder"


PREFERENCE = {Kind.DIGEST: "weekly_digest", Kind.REMINDER: "reminder_email"}


def unsubscribe_token(user_id: UUID, kind: Kind = Kind.DIGEST) -> str:
    payload: Any = str(user_id) if kind == Kind.DIGEST else [str(user_id), kind.value]
    return signing.dumps(payload, salt=SALT)


def unsubscribe_url(user_id: UUID, kind: Kind = Kind.DIGEST) -> str:
    """Served by the API itself (SPEC section 3), so it works without the apps."""
    query = urlencode({"token": unsubscribe_token(user_id, kind)})
    return f"{settings.SITE_URL}{reverse('digest-unsubscribe')}?{query}"


def subscription_for_token(token: str) -> tuple[User, Kind] | None:
    """The user and kind a token was made for, or None when it is forged, mangled or theirs
    is gone."""
    try:
        payload = signing.loads(token, salt=SALT)
        if isinstance(payload, list) and len(payload) == 2:
            user_id, kind = UUID(str(payload[0])), Kind(payload[1])
        else:
            user_id, kind = UUID(str(payload)), Kind.DIGEST
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user = User.objects.filter(pk=user_id).first()
    return None if user is None else (user, kind)


def user_for_token(token: str) -> User | None:
    """The user a token was made for, or None when it is forged, mangled or theirs is gone."""
    found = subscription_for_token(token)
    return None if found is None else found[0]


def email_unsubscribe(*, user_id: UUID, kind: Kind) -> None:
    """Turn that email off; doing it twice changes nothing."""
    field = PREFERENCE[kind]
    User.objects.filter(pk=user_id, **{field: True}).update(
        **{field: False}, updated_at=timezone.now()
    )


def digest_unsubscribe(*, user_id: UUID) -> None:
    """Turn the weekly digest off; doing it twice changes nothing."""
    email_unsubscribe(user_id=user_id, kind=Kind.DIGEST)
