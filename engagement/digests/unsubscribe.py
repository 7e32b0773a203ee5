"""Signed one-click unsubscribe links (RFC 8058) and what following one does."""

# The token is the user's id signed with SECRET_KEY under its own salt, so a token made for
# anything else never unsubscribes anyone. It does not expire: a digest read months later
# must still unsubscribe in one click, and the worst a leaked token can do is turn the weekly
# email off, which the user can turn back on in the app. Rotating SECRET_KEY (with the old key
# in SECRET_KEY_FALLBACKS for a while) is the way to retire every link at once.

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

SALT = "engagement.digests.unsubscribe"


def unsubscribe_token(user_id: UUID) -> str:
    return signing.dumps(str(user_id), salt=SALT)


def unsubscribe_url(user_id: UUID) -> str:
    """Served by the API itself (SPEC section 3), so it works without the apps."""
    query = urlencode({"token": unsubscribe_token(user_id)})
    return f"{settings.SITE_URL}{reverse('digest-unsubscribe')}?{query}"


def user_for_token(token: str) -> User | None:
    """The user a token was made for, or None when it is forged, mangled or theirs is gone."""
    try:
        user_id = UUID(str(signing.loads(token, salt=SALT)))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return User.objects.filter(pk=user_id).first()


def digest_unsubscribe(*, user_id: UUID) -> None:
    """Turn the weekly digest off; doing it twice changes nothing."""
    User.objects.filter(pk=user_id, weekly_digest=True).update(
        weekly_digest=False, updated_at=timezone.now()
    )
