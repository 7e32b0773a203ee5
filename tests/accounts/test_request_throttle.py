"""The default throttle (accounts/throttling.py `RequestRateThrottle`, issue 20): DRF's user and
anonymous rates with their sliding log, in one round trip to Redis per request, shared with the
authentication cache's read when the view lets every signed-in caller in; and the number of
round trips an authenticated request makes to the cache altogether."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.cache import caches
from django.db.models import F
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from accounts import auth_cache
from accounts.authentication import issue_tokens
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
META = "/api/v1/meta/"
COUPLES = "/api/v1/couples/"


def rates(settings: SettingsWrapper, user: str, anon: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": user,
            "anon": anon,
        },
    }


def signed_in(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    return client


def test_a_user_gets_the_user_rate_over_a_sliding_minute(
    backend: str, settings: SettingsWrapper
) -> None:
    rates(settings, user="3/min", anon="1/min")
    user = UserFactory.create()

    with time_machine.travel("2026-12-01 10:00:00Z", tick=False) as clock:
        client = signed_in(user)
        assert [client.get(ME).status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get(ME)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "60"
        clock.shift(30)
        assert client.get(ME).status_code == 429  # the three still lie within the minute
        clock.shift(31)
        assert client.get(ME).status_code == 200  # they left the window; refusals were not logged


def test_an_anonymous_caller_gets_the_anonymous_rate(
    backend: str, settings: SettingsWrapper
) -> None:
    rates(settings, user="5/min", anon="2/min")
    client = APIClient()

    codes = [client.get(META).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_users_do_not_share_a_log(backend: str, settings: SettingsWrapper) -> None:
    rates(settings, user="1/min", anon="1/min")
    first, second = signed_in(UserFactory.create()), signed_in(UserFactory.create())

    assert first.get(ME).status_code == 200
    assert second.get(ME).status_code == 200
    assert first.get(ME).status_code == 429


class RoundTrips:
    """Every command sent to Redis (a pipeline or a script counts once)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import redis.connection

        self.count = 0
        original = redis.connection.AbstractConnection.send_packed_command

        def counted(connection: Any, command: Any, check_health: bool = True) -> None:
            self.count += 1
            original(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)


def test_an_authenticated_request_makes_one_round_trip_to_redis(
    backend: str, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The authentication cache read and every throttle of the request in one script; none to
    read the user's row from the database either (tests/accounts/test_auth_cache.py)."""
    if backend != "redis":
        pytest.skip("round trips are Redis's")
    settings.AUTH_USER_CACHE = True
    user = UserFactory.create()
    caches["default"].delete(auth_cache.key(user.pk))
    client = signed_in(user)
    assert client.get("/api/v1/couples/").status_code == 200  # fills the cache
    trips = RoundTrips(monkeypatch)

    for _ in range(3):
        assert client.get("/api/v1/couples/").status_code == 200

    assert trips.count == 3


@pytest.fixture
def cached_user(settings: SettingsWrapper) -> Iterator[User]:
    """A user allowed three requests a minute, whose requests read the authentication cache
    (with the throttles, on Redis); the clock stands still."""
    settings.AUTH_USER_CACHE = True
    rates(settings, user="3/min", anon="100/min")
    with time_machine.travel("2026-12-01 10:00:00Z", tick=False):
        yield UserFactory.create()


def test_a_request_refused_at_sign_in_is_not_counted(backend: str, cached_user: User) -> None:
    # The cache entry then holds another generation than the token's: the script reads it
    # and counts nothing, as DRF counts nothing before authentication lets a request in.
    old = signed_in(cached_user)
    assert old.get(COUPLES).status_code == 200
    User.objects.filter(pk=cached_user.pk).update(token_generation=F("token_generation") + 1)
    new = signed_in(User.objects.get(pk=cached_user.pk))
    assert new.get(COUPLES).status_code == 200  # fills the cache with the new generation
    assert [old.get(COUPLES).status_code for _ in range(3)] == [401, 401, 401]

    assert [new.get(COUPLES).status_code for _ in range(2)] == [200, 429]


def test_a_request_is_counted_once_whichever_way_it_is_counted(
    backend: str, cached_user: User
) -> None:
    # The couples list asks only IsAuthenticated: counted with the authentication read. The
    # invitations choose their throttles per action: counted by the throttles, after the
    # permissions (then refused for its empty body). One log, each request once.
    client = signed_in(cached_user)

    codes = []
    for _ in range(3):
        codes.append(client.get(COUPLES).status_code)
        codes.append(client.post("/api/v1/invitations/", {}, format="json").status_code)

    assert codes == [200, 400, 200, 429, 429, 429]


@time_machine.travel("2026-11-25T12:00:00+00:00", tick=False)
def test_an_anonymous_caller_has_one_budget_across_the_account_views_and_the_rest(
    backend: str, settings: SettingsWrapper
) -> None:
    # The account views name the default throttle too (beside their own buckets), so their
    # requests and every other endpoint's draw on the same anonymous rate, as with DRF's.
    rates(settings, user="100/min", anon="3/min")
    client = APIClient()
    assert client.get(META).status_code == 200
    assert client.post("/api/v1/auth/verify/", {"token": "x"}, format="json").status_code == 400
    assert client.get(META).status_code == 200
    assert client.post("/api/v1/auth/verify/", {"token": "x"}, format="json").status_code == 429
    assert client.get(META).status_code == 429
