"""Refresh rotation with a grace window and theft detection, logout, and revoking every token.

SPEC section 3: a rotated refresh token presented again within REFRESH_REUSE_GRACE_SECONDS
returns the same new pair (a phone that lost the answer retries); presented later it is treated
as stolen, and every token of its user is revoked.

The new pair is never stored. Its jtis are derived from the old jti with an HMAC and its times
from the rotation second, and JWT signing is deterministic, so the replay re-signs identical
tokens. The database keeps only jtis and a timestamp: nothing that works as a credential.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid

import jwt
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.authentication import TOKEN_GENERATION_CLAIM
from accounts.authentication import Claims
from accounts.authentication import encode_pair
from accounts.authentication import jwt_decode
from accounts.authentication import pair_claims
from accounts.authentication import record_outstanding
from accounts.authentication import user_can_sign_in
from accounts.models import Device
from accounts.models import RefreshRotation
from accounts.models import User

logger = logging.getLogger(__name__)

_DERIVATION_SALT = "accounts.tokens.rotation"


def token_hash(token: str) -> str:
    """What is stored of a single-use link token (email verification, invitation): its sha256,
    so a copy of the database opens no link."""
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshRejected(Exception):
    """The refresh token cannot be used: invalid, expired, revoked, or reused after the grace."""


def _decode(raw: str, *, verify_exp: bool) -> Claims | None:
    """The claims of a well-formed refresh token signed by us, or None."""
    try:
        payload = jwt_decode(raw, verify_exp=verify_exp)
    except jwt.InvalidTokenError:
        return None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh":
        return None
    if not isinstance(payload.get(api_settings.JTI_CLAIM), str):
        return None
    if not payload.get(api_settings.USER_ID_CLAIM) or not isinstance(payload.get("exp"), int):
        return None
    return payload


def _user_id(presented: Claims) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(presented[api_settings.USER_ID_CLAIM]))
    except ValueError:
        return None


def _derived_jti(jti: str, kind: str) -> str:
    secret = settings.JWT_SIGNING_KEY
    return salted_hmac(_DERIVATION_SALT, f"{jti}:{kind}", secret=secret).hexdigest()[:32]


def _rotation_claims(presented: Claims, rotated_at: dt.datetime) -> dict[str, Claims]:
    """The pair a refresh token is rotated into: the same inputs always give the same pair."""
    jti = presented[api_settings.JTI_CLAIM]
    return pair_claims(
        user_id=str(presented[api_settings.USER_ID_CLAIM]),
        generation=int(presented[TOKEN_GENERATION_CLAIM]),
        issued_at=int(rotated_at.timestamp()),
        refresh_jti=_derived_jti(jti, "refresh"),
        access_jti=_derived_jti(jti, "access"),
    )


def _is_blacklisted(jti: str) -> bool:
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


def _blacklist(jti: str, *, user: User | None, expires_at: dt.datetime) -> None:
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=jti, defaults={"user": user, "token": "", "expires_at": expires_at}
    )
    BlacklistedToken.objects.get_or_create(token=outstanding)


def refresh_owner(raw: str) -> uuid.UUID | None:
    """Whose refresh token this is, expired or not, when we signed it; else None."""
    presented = _decode(raw, verify_exp=False)
    return None if presented is None else _user_id(presented)


def _grace() -> dt.timedelta:
    return dt.timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)


def tokens_revoke_all(*, user: User) -> None:
    """Every access and refresh token issued to the user so far stops working.

    Bumping the generation kills them all at once (every JWT carries it); blacklisting the
    outstanding refresh tokens as well keeps the blacklist truthful for operators.
    """
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)
    user.refresh_from_db(fields=["token_generation"])
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    RefreshRotation.objects.filter(user=user).delete()


@transaction.atomic
def _rotate(raw: str) -> dict[str, str] | None:
    presented = _decode(raw, verify_exp=True)
    if presented is None:
        return None
    # Locking the user serialises concurrent refreshes of one account, so two retries of the
    # same token cannot both rotate it: the second sees the first's rotation and replays it.
    user_id = _user_id(presented)
    user = None if user_id is None else User.objects.select_for_update().filter(pk=user_id).first()
    if user is None or not user_can_sign_in(user):
        return None
    if presented.get(TOKEN_GENERATION_CLAIM) != user.token_generation:
        return None
    jti = str(presented[api_settings.JTI_CLAIM])
    now = timezone.now().replace(microsecond=0)
    rotation = RefreshRotation.objects.filter(jti=jti).first()
    if rotation is not None:
        if now <= rotation.rotated_at + _grace():
            if _is_blacklisted(rotation.replacement_jti):
                return None  # the pair it became was logged out since
            return encode_pair(_rotation_claims(presented, rotation.rotated_at))
        # Reused after the grace window: someone else holds a copy. Committed before the
        # caller answers 401, so the revocation stands.
        logger.warning("refresh token reused after rotation; revoking", extra={"user": user.pk})
        tokens_revoke_all(user=user)
        # Whoever holds the copy may hold the phone too: it stops receiving pushes.
        Device.objects.filter(user=user).delete()
        return None
    if _is_blacklisted(jti):
        return None  # logged out
    claims = _rotation_claims(presented, now)
    expires_at = dt.datetime.fromtimestamp(presented["exp"], tz=dt.UTC)
    RefreshRotation.objects.create(
        jti=jti,
        user=user,
        rotated_at=now,
        replacement_jti=claims["refresh"][api_settings.JTI_CLAIM],
        expires_at=expires_at,
    )
    _blacklist(jti, user=user, expires_at=expires_at)
    record_outstanding(user, claims["refresh"])
    return encode_pair(claims)


def refresh_rotate(*, raw: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair, or raise RefreshRejected."""
    pair = _rotate(raw)
    if pair is None:
        raise RefreshRejected
    return pair


@transaction.atomic
def refresh_revoke(*, raw: str) -> None:
    """Logout: blacklist the refresh token (and what it was rotated into). Idempotent."""
    # An expired token needs no revoking, but accepting it keeps logout simple for clients.
    presented = _decode(raw, verify_exp=False)
    if presented is None:
        return  # not one of ours: nothing to revoke
    jti = presented[api_settings.JTI_CLAIM]
    user_id = _user_id(presented)
    user = None if user_id is None else User.objects.filter(pk=user_id).first()
    expires_at = dt.datetime.fromtimestamp(presented["exp"], tz=dt.UTC)
    _blacklist(jti, user=user, expires_at=expires_at)
    # Logging out with the token a retry would replay must end the pair it became, too.
    rotation = RefreshRotation.objects.filter(jti=jti).first()
    if rotation is not None:
        _blacklist(rotation.replacement_jti, user=user, expires_at=expires_at)


def rotations_purge() -> int:
    """Drop rotation records of tokens that have expired anyway (daily housekeeping)."""
    deleted, _ = RefreshRotation.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
