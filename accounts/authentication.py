"""JWT bearer authentication that honours revocation by password change, reset and erasure."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import RefreshToken, Token

from accounts.models import User

TOKEN_GENERATION_CLAIM = "gen"  # noqa: S105 - a claim name, not a secret


def token_is_current(user: User, token: Token) -> bool:
    """False once the user's tokens were revoked after this one was issued."""
    return bool(token.get(TOKEN_GENERATION_CLAIM, -1) == user.token_generation)


def user_can_sign_in(user: User) -> bool:
    return user.is_active and user.erased_at is None and user.is_email_verified


def issue_tokens(user: User) -> dict[str, str]:
    """A fresh refresh/access pair stamped with the user's current token generation."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_GENERATION_CLAIM] = user.token_generation
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class JWTAuthentication(BaseJWTAuthentication):
    """simplejwt's bearer auth plus the checks SPEC section 3 asks for."""

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        assert isinstance(user, User)
        if not user_can_sign_in(user):
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if not token_is_current(user, validated_token):
            raise AuthenticationFailed("Token is no longer valid", code="token_not_valid")
        return user
