"""JWT bearer authentication that honours revocation by password change, reset and erasure, and
accepts tokens signed with an older key while the signing key rotates (SPEC section 3, 8)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import uuid4

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.exceptions import TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken as BaseAccessToken
from rest_framework_simplejwt.tokens import Token

from accounts import auth_cache
from accounts.models import User

TOKEN_GENERATION_CLAIM = "gen"  # noqa: S105 - a claim name, not a secret

Claims = dict[str, Any]


def verifying_keys() -> list[str]:
    """The key tokens are signed with, then the older ones still accepted while apps refresh
    (`JWT_SIGNING_KEY_FALLBACKS`). New tokens are only ever signed with the first."""
    return [str(token_backend.signing_key), *settings.JWT_SIGNING_KEY_FALLBACKS]


def jwt_decode(raw: str | bytes, *, verify_exp: bool = True) -> Claims:
    """The claims of a token signed with any key still accepted. Raises jwt.InvalidTokenError
    (jwt.ExpiredSignatureError for an expired one) like jwt.decode."""
    keys = verifying_keys()
    for index, key in enumerate(keys):
        try:
            claims: Claims = jwt.decode(
                raw,
                key,
                algorithms=[token_backend.algorithm],
                leeway=token_backend.get_leeway(),
                options={"verify_exp": verify_exp, "verify_aud": False},
            )
        except jwt.InvalidSignatureError:
            if index == len(keys) - 1:
                raise
            continue  # signed with another key, maybe an older one: try it
        return claims
    raise jwt.InvalidSignatureError  # no key at all (never: the current key is always there)


class RotatingKeyTokenBackend(TokenBackend):
    """simplejwt's backend, verifying with `verifying_keys()` rather than the current key only."""

    def decode(self, token: Token | str | bytes, verify: bool = True) -> dict[str, Any]:
        if not verify:
            return super().decode(token, verify)  # type: ignore[arg-type]
        try:
            return jwt_decode(str(token) if isinstance(token, Token) else token)
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken("Token is expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc


class AccessToken(BaseAccessToken):
    """The bearer token (SIMPLE_JWT's AUTH_TOKEN_CLASSES), verified against every accepted key."""

    _token_backend = RotatingKeyTokenBackend(
        api_settings.ALGORITHM, api_settings.SIGNING_KEY, leeway=api_settings.LEEWAY
    )


def token_is_current(user: User, token: Token) -> bool:
    """False once the user's tokens were revoked after this one was issued."""
    return bool(token.get(TOKEN_GENERATION_CLAIM, -1) == user.token_generation)


def user_can_sign_in(user: User) -> bool:
    return user.is_active and user.erased_at is None and user.is_email_verified


def pair_claims(
    *, user_id: str, generation: int, issued_at: int, refresh_jti: str, access_jti: str
) -> dict[str, Claims]:
    """The claims of a refresh/access pair, in one fixed key order.

    JWT signing is deterministic, so the same claims always encode to the same strings: that is
    how a refresh retried within the grace window gets the very same pair back without the pair
    ever being stored (accounts/tokens.py).
    """

    def claims(token_type: str, lifetime: dt.timedelta, jti: str) -> Claims:
        payload = {
            api_settings.TOKEN_TYPE_CLAIM: token_type,
            "exp": issued_at + int(lifetime.total_seconds()),
            "iat": issued_at,
            api_settings.JTI_CLAIM: jti,
            api_settings.USER_ID_CLAIM: user_id,
            TOKEN_GENERATION_CLAIM: generation,
        }
        return dict(sorted(payload.items()))

    return {
        "refresh": claims("refresh", api_settings.REFRESH_TOKEN_LIFETIME, refresh_jti),
        "access": claims("access", api_settings.ACCESS_TOKEN_LIFETIME, access_jti),
    }


def encode_pair(claims: dict[str, Claims]) -> dict[str, str]:
    return {
        "access": token_backend.encode(claims["access"]),
        "refresh": token_backend.encode(claims["refresh"]),
    }


def record_outstanding(user: User, refresh_claims: Claims) -> None:
    """Register a refresh token with the blacklist app, so logout and revocation can reach it.

    The `token` column is left empty on purpose: the blacklist needs only the jti, and a copy of
    every live refresh token in the database would let anyone who reads a backup sign in.
    """
    OutstandingToken.objects.create(
        user=user,
        jti=refresh_claims[api_settings.JTI_CLAIM],
        token="",
        created_at=dt.datetime.fromtimestamp(refresh_claims["iat"], tz=dt.UTC),
        expires_at=dt.datetime.fromtimestamp(refresh_claims["exp"], tz=dt.UTC),
    )


def issue_tokens(user: User) -> dict[str, str]:
    """A fresh refresh/access pair stamped with the user's current token generation."""
    claims = pair_claims(
        user_id=str(user.pk),
        generation=user.token_generation,
        issued_at=int(timezone.now().timestamp()),
        refresh_jti=uuid4().hex,
        access_jti=uuid4().hex,
    )
    record_outstanding(user, claims["refresh"])
    return encode_pair(claims)


class JWTAuthentication(BaseJWTAuthentication):
    """simplejwt's bearer auth plus the checks SPEC section 3 asks for."""

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        """simplejwt's, with the request passed on to `user_of`."""
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        return self.user_of(validated_token, request), validated_token

    def get_user(self, validated_token: Token) -> Any:
        return self.user_of(validated_token, None)

    def user_of(self, validated_token: Token, request: Request | None) -> Any:
        """The token's user, from the authentication cache when it holds them (only users who
        may sign in are cached, and every change to the row invalidates them:
        accounts/auth_cache.py); with the request, its throttle counted in the same round
        trip to Redis."""
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        try:
            user, cached = auth_cache.user_for_token(
                user_id, request=request, generation=validated_token.get(TOKEN_GENERATION_CLAIM)
            )
        except (ValueError, ValidationError):
            user, cached = None, False
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not cached and not user_can_sign_in(user):
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if not token_is_current(user, validated_token):
            raise AuthenticationFailed("Token is no longer valid", code="token_not_valid")
        return user
