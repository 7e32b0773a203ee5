"""Sign-in, refresh rotation with its grace period, theft detection and logout (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.authentication import issue_tokens
from accounts.models import RefreshRotation
from accounts.models import User
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import bearer
from tests.accounts.client import error_attrs
from tests.accounts.paths import LOGOUT
from tests.accounts.paths import ME
from tests.accounts.paths import REFRESH
from tests.accounts.paths import SIGN_IN
from tests.factories import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def refresh(api: CommittingAPIClient, token: str) -> Any:
    return api.post(REFRESH, {"refresh": token})


def works(access: str) -> bool:
    return bool(bearer(access).get(ME).status_code == 200)


@pytest.fixture
def user() -> User:
    return UserFactory.create(email="sam@example.com")


def test_signing_in_returns_a_pair_carrying_the_token_generation(
    api: CommittingAPIClient, user: User
) -> None:
    User.objects.filter(pk=user.pk).update(token_generation=3)

    response = api.post(SIGN_IN, {"email": "Sam@Example.com", "password": PASSWORD})

    assert response.status_code == 200
    pair = response.json()
    assert claims(pair["access"])["gen"] == claims(pair["refresh"])["gen"] == 3
    assert claims(pair["refresh"])["user_id"] == str(user.pk)
    assert works(pair["access"])


def test_lifetimes_are_fifteen_minutes_and_thirty_days(
    api: CommittingAPIClient, user: User
) -> None:
    pair = api.post(SIGN_IN, {"email": "sam@example.com", "password": PASSWORD}).json()

    access, refresh_claims = claims(pair["access"]), claims(pair["refresh"])

    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh_claims["exp"] - refresh_claims["iat"] == 30 * 24 * 3600


def test_wrong_password_and_unknown_address_answer_the_same_401(
    api: CommittingAPIClient, user: User
) -> None:
    wrong = api.post(SIGN_IN, {"email": "sam@example.com", "password": "nope-nope-nope"})
    unknown = api.post(SIGN_IN, {"email": "nobody@example.com", "password": PASSWORD})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["errors"][0]["code"] == "no_active_account"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_inactive_and_erased_accounts_cannot_sign_in(api: CommittingAPIClient) -> None:
    UserFactory.create(email="off@example.com", is_active=False)
    UserFactory.create(email="gone@example.com", erased_at=timezone.now())

    for email in ("off@example.com", "gone@example.com"):
        assert api.post(SIGN_IN, {"email": email, "password": PASSWORD}).status_code == 401


def test_sign_in_without_a_password_names_the_field(api: CommittingAPIClient) -> None:
    response = api.post(SIGN_IN, {"email": "sam@example.com"})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"password"}


def test_refresh_rotates_and_keeps_the_generation_claim(
    api: CommittingAPIClient, user: User
) -> None:
    User.objects.filter(pk=user.pk).update(token_generation=2)
    user.refresh_from_db()
    old = issue_tokens(user)

    response = refresh(api, old["refresh"])

    assert response.status_code == 200
    new = response.json()
    assert new["refresh"] != old["refresh"]
    assert claims(new["refresh"])["gen"] == claims(new["access"])["gen"] == 2
    assert works(new["access"])
    assert BlacklistedToken.objects.filter(token__jti=claims(old["refresh"])["jti"]).exists()
    assert RefreshRotation.objects.filter(jti=claims(old["refresh"])["jti"]).exists()
    # The new refresh token rotates in turn.
    assert refresh(api, new["refresh"]).status_code == 200


def test_refresh_retried_within_the_grace_period_returns_the_same_pair(
    api: CommittingAPIClient, user: User
) -> None:
    old = issue_tokens(user)
    first = refresh(api, old["refresh"]).json()

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=55)):
        retry = refresh(api, old["refresh"])

    assert retry.status_code == 200
    assert retry.json() == first
    assert OutstandingToken.objects.filter(jti=claims(first["refresh"])["jti"]).count() == 1


def test_the_grace_period_follows_the_setting(
    api: CommittingAPIClient, user: User, settings: Any
) -> None:
    settings.REFRESH_REUSE_GRACE_SECONDS = 5
    old = issue_tokens(user)
    refresh(api, old["refresh"])

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=10)):
        assert refresh(api, old["refresh"]).status_code == 401


def test_refresh_reused_after_the_grace_period_revokes_every_token_of_the_user(
    api: CommittingAPIClient, user: User
) -> None:
    phone = issue_tokens(user)
    laptop = issue_tokens(user)
    rotated = refresh(api, phone["refresh"]).json()
    generation = user.token_generation

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        reuse = refresh(api, phone["refresh"])

        assert reuse.status_code == 401
        user.refresh_from_db()
        assert user.token_generation == generation + 1
        # The pair the stolen token became, and every other device's tokens, stop working.
        assert refresh(api, rotated["refresh"]).status_code == 401
        assert refresh(api, laptop["refresh"]).status_code == 401
        assert not works(rotated["access"])
        assert not works(laptop["access"])
        assert not works(phone["access"])
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    assert not live.exists()
    # The account itself is fine: signing in again works.
    assert api.post(SIGN_IN, {"email": "sam@example.com", "password": PASSWORD}).status_code == 200


def test_theft_detection_is_committed_before_the_401(api: CommittingAPIClient, user: User) -> None:
    old = issue_tokens(user)
    refresh(api, old["refresh"])

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        refresh(api, old["refresh"])

    assert User.objects.get(pk=user.pk).token_generation == user.token_generation + 1


def test_a_refresh_token_from_an_earlier_generation_is_refused(
    api: CommittingAPIClient, user: User
) -> None:
    old = issue_tokens(user)
    User.objects.filter(pk=user.pk).update(token_generation=user.token_generation + 1)

    response = refresh(api, old["refresh"])

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_a_refresh_token_without_a_generation_is_refused(
    api: CommittingAPIClient, user: User
) -> None:
    from rest_framework_simplejwt.tokens import RefreshToken

    legacy = str(RefreshToken.for_user(user))

    assert refresh(api, legacy).status_code == 401


@pytest.mark.parametrize("kind", ["garbage", "access", "expired", "tampered"])
def test_refresh_refuses_anything_but_a_live_refresh_token(
    api: CommittingAPIClient, user: User, kind: str
) -> None:
    pair = issue_tokens(user)
    token = {
        "garbage": "not.a.jwt",
        "access": pair["access"],
        "expired": pair["refresh"],
        "tampered": pair["refresh"][:-4]
        + ("AAAA" if not pair["refresh"].endswith("AAAA") else "BBBB"),
    }[kind]
    when = timezone.now() + (dt.timedelta(days=31) if kind == "expired" else dt.timedelta())

    with time_machine.travel(when):
        response = refresh(api, token)

    assert response.status_code == 401


def test_refresh_without_a_token_names_the_field(api: CommittingAPIClient) -> None:
    response = api.post(REFRESH, {})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"refresh"}


def test_refresh_ignores_a_stale_access_token_sent_along(
    api: CommittingAPIClient, user: User
) -> None:
    pair = issue_tokens(user)
    client = bearer("not-a-valid-access-token")

    assert client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 200


def test_refresh_stops_working_for_an_account_disabled_since(
    api: CommittingAPIClient, user: User
) -> None:
    pair = issue_tokens(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert refresh(api, pair["refresh"]).status_code == 401


def test_logout_revokes_the_refresh_token(api: CommittingAPIClient, user: User) -> None:
    pair = issue_tokens(user)

    response = api.post(LOGOUT, {"refresh": pair["refresh"]})

    assert response.status_code == 204
    assert refresh(api, pair["refresh"]).status_code == 401
    # A logged-out token is not a stolen one: the user's other sessions live on.
    assert User.objects.get(pk=user.pk).token_generation == user.token_generation


def test_logout_is_idempotent(api: CommittingAPIClient, user: User) -> None:
    pair = issue_tokens(user)

    first = api.post(LOGOUT, {"refresh": pair["refresh"]})
    second = api.post(LOGOUT, {"refresh": pair["refresh"]})
    unknown = api.post(LOGOUT, {"refresh": "not.a.jwt"})

    assert first.status_code == second.status_code == unknown.status_code == 204
    assert BlacklistedToken.objects.filter(token__jti=claims(pair["refresh"])["jti"]).count() == 1


def test_logout_with_a_rotated_token_also_ends_the_pair_it_became(
    api: CommittingAPIClient, user: User
) -> None:
    old = issue_tokens(user)
    new = refresh(api, old["refresh"]).json()

    api.post(LOGOUT, {"refresh": old["refresh"]})

    assert refresh(api, new["refresh"]).status_code == 401
    assert refresh(api, old["refresh"]).status_code == 401  # no grace replay either


def test_logout_needs_the_refresh_field(api: CommittingAPIClient) -> None:
    response = api.post(LOGOUT, {})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"refresh"}


def test_no_usable_token_is_stored_in_the_database(api: CommittingAPIClient, user: User) -> None:
    pair = api.post(SIGN_IN, {"email": "sam@example.com", "password": PASSWORD}).json()
    new = refresh(api, pair["refresh"]).json()

    stored = [t.token for t in OutstandingToken.objects.filter(user=user)]
    rotations = list(RefreshRotation.objects.values_list("jti", "replacement_jti"))

    assert stored
    assert all(token == "" for token in stored)
    for token in (*pair.values(), *new.values()):
        assert all(token not in value for row in rotations for value in row)
    assert settings.SIMPLE_JWT["SIGNING_KEY"] not in str(rotations)


OLD_KEY = "an-older-jwt-signing-key-still-accepted-while-apps-refresh-0123456789"


def signed_with(key: str, user: User) -> dict[str, str]:
    """A pair as the API issued it, but signed with `key`."""
    pair = issue_tokens(user)
    return {kind: jwt.encode(claims(token), key, algorithm="HS256") for kind, token in pair.items()}


def test_tokens_signed_with_a_fallback_key_still_work_and_refresh_onto_the_current_key(
    api: CommittingAPIClient, user: User, settings: Any
) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = [OLD_KEY]
    old = signed_with(OLD_KEY, user)

    assert works(old["access"])
    rotated = refresh(api, old["refresh"])
    assert rotated.status_code == 200
    new = rotated.json()
    jwt.decode(new["access"], settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new["refresh"], OLD_KEY, algorithms=["HS256"])
    assert works(new["access"])
    assert api.post(LOGOUT, {"refresh": new["refresh"]}).status_code == 204
    assert refresh(api, new["refresh"]).status_code == 401


def test_once_a_fallback_key_is_dropped_its_tokens_stop_working(
    api: CommittingAPIClient, user: User, settings: Any
) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = []
    old = signed_with(OLD_KEY, user)

    assert not works(old["access"])
    assert refresh(api, old["refresh"]).status_code == 401


def test_a_fallback_key_does_not_lift_revocation(user: User, settings: Any) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = [OLD_KEY]
    old = signed_with(OLD_KEY, user)
    User.objects.filter(pk=user.pk).update(token_generation=user.token_generation + 1)

    assert not works(old["access"])


def test_an_expired_token_signed_with_a_fallback_key_is_refused(user: User, settings: Any) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = [OLD_KEY]
    old = signed_with(OLD_KEY, user)

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        response = bearer(old["access"]).get(ME)

    assert response.status_code == 401
