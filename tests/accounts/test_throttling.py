"""Sign-in, registration, verification and reset are throttled per IP and per email (SPEC §3)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections

from tests.accounts.client import CommittingAPIClient
from tests.accounts.paths import CONFIRM
from tests.accounts.paths import REGISTER
from tests.accounts.paths import RESET
from tests.accounts.paths import SIGN_IN
from tests.accounts.paths import VERIFY
from tests.factories import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mid_window(mid_window: None) -> None:
    """Every test here counts requests in windows aligned to the clock (tests/conftest.py)."""


def set_rates(settings: Any, **rates: str) -> None:
    merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}


def attempt(api: CommittingAPIClient, email: str, ip: str = "10.0.0.1") -> Any:
    return api.post(SIGN_IN, {"email": email, "password": "wrong-password"}, REMOTE_ADDR=ip)


def three_fail_and_the_fourth_is_throttled(
    api: CommittingAPIClient, attempts: list[tuple[str, str]]
) -> None:
    """Four failed sign-ins, each (email, address): 401 three times, then 429."""
    answers = [attempt(api, email, ip).status_code for email, ip in attempts]
    assert answers == [401, 401, 401, 429]


def test_failed_sign_ins_are_throttled_per_email_and_address(
    api: CommittingAPIClient, settings: Any
) -> None:
    set_rates(settings, signin_email_ip="3/hour")
    UserFactory.create(email="target@example.com")

    three_fail_and_the_fourth_is_throttled(api, [("target@example.com", "10.0.0.1")] * 4)

    throttled = attempt(api, "TARGET@example.com ")  # normalised: same bucket
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 3600
    assert throttled.json()["errors"][0]["code"] == "throttled"
    # Strictly per (email, address): the same email elsewhere, another email here, still go on.
    assert attempt(api, "target@example.com", ip="10.0.0.2").status_code == 401
    assert attempt(api, "someone.else@example.com").status_code == 401


def test_failed_sign_ins_are_throttled_loosely_per_email_whatever_the_address(
    api: CommittingAPIClient, settings: Any
) -> None:
    set_rates(settings, signin_email="3/hour")
    UserFactory.create(email="target@example.com")

    three_fail_and_the_fourth_is_throttled(
        api, [("target@example.com", f"10.0.0.{n}") for n in range(4)]
    )
    assert attempt(api, "someone.else@example.com").status_code == 401


def test_failed_sign_ins_are_throttled_per_address_whatever_the_email(
    api: CommittingAPIClient, settings: Any
) -> None:
    set_rates(settings, signin_ip="3/min")

    three_fail_and_the_fourth_is_throttled(
        api, [(f"person{n}@example.com", "10.0.0.1") for n in range(4)]
    )
    assert int(attempt(api, "another@example.com").headers["Retry-After"]) <= 60
    assert attempt(api, "another@example.com", ip="10.0.0.2").status_code == 401


def test_a_throttled_sign_in_is_refused_even_with_the_right_password(
    api: CommittingAPIClient, settings: Any
) -> None:
    set_rates(settings, signin_email_ip="2/hour")
    UserFactory.create(email="guessed@example.com")
    attempt(api, "guessed@example.com")
    attempt(api, "guessed@example.com")

    response = api.post(
        SIGN_IN, {"email": "guessed@example.com", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 429


def test_a_successful_sign_in_takes_no_place_in_any_counter(
    api: CommittingAPIClient, settings: Any
) -> None:
    set_rates(settings, signin_email_ip="1/hour", signin_ip="1/min", signin_email="1/hour")
    UserFactory.create(email="owner@example.com")
    body = {"email": "owner@example.com", "password": PASSWORD}

    assert [api.post(SIGN_IN, body).status_code for _ in range(3)] == [200, 200, 200]
    assert attempt(api, "owner@example.com", ip="127.0.0.1").status_code == 401


def test_a_sign_in_body_without_an_email_is_a_400_and_counts_nothing(
    api: CommittingAPIClient, settings: Any
) -> None:
    set_rates(settings, signin_ip="1/min")

    assert api.post(SIGN_IN, {"password": "x"}).status_code == 400
    assert attempt(api, "someone@example.com", ip="127.0.0.1").status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (REGISTER, {"email": "flood@example.com", "password": PASSWORD, "display_name": "F"}),
        (RESET, {"email": "flood@example.com"}),
    ],
)
def test_registration_and_reset_are_throttled_per_email_each_in_its_own_bucket(
    api: CommittingAPIClient, settings: Any, path: str, body: dict[str, str]
) -> None:
    set_rates(settings, auth_email="2/hour", auth_ip="100/min")

    answers = [api.post(path, body, REMOTE_ADDR=f"10.1.0.{n}").status_code for n in range(3)]

    assert answers == [202, 202, 429]
    other = RESET if path == REGISTER else REGISTER
    other_body = {"email": "flood@example.com", "password": PASSWORD, "display_name": "F"}
    assert api.post(other, other_body).status_code == 202


def test_registration_and_reset_count_per_address_in_buckets_of_their_own(
    api: CommittingAPIClient, settings: Any
) -> None:
    set_rates(settings, auth_ip="2/min", auth_email="100/hour")
    body = {"email": "someone@example.com", "password": PASSWORD, "display_name": "S"}

    assert [api.post(REGISTER, body).status_code for _ in range(3)] == [202, 202, 429]
    assert api.post(RESET, {"email": "someone@example.com"}).status_code == 202


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (VERIFY, {"token": "guess"}),
        (CONFIRM, {"uid": "MTIz", "token": "guess", "new_password": PASSWORD}),
    ],
)
def test_verification_and_reset_confirmation_are_throttled_per_ip(
    api: CommittingAPIClient, settings: Any, path: str, body: dict[str, str]
) -> None:
    set_rates(settings, auth_ip="2/min")

    answers = [api.post(path, body).status_code for _ in range(3)]

    assert answers == [400, 400, 429]


def _race_twenty_sign_ins(settings: Any) -> Counter[int]:
    set_rates(settings, signin_email="5/hour")
    UserFactory.create(email="race@example.com")
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt_in_thread(n: int) -> None:
        client = CommittingAPIClient()
        barrier.wait()
        try:
            response = attempt(client, "race@example.com", ip=f"10.2.0.{n}")
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt_in_thread, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(statuses) == threads_count
    return Counter(statuses)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_in_attempts_cannot_all_pass_the_throttle(settings: Any) -> None:
    counts = _race_twenty_sign_ins(settings)
    assert counts[429] == 15
    assert counts[401] == 5


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_in_attempts_cannot_all_pass_the_throttle_on_redis(settings: Any) -> None:
    """The production cache: the counter is shared by every web process, so it must be atomic
    there too (SPEC section 3, docs/security.md)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": f"duet-test-throttle-{uuid.uuid4().hex}",
        }
    }
    assert isinstance(caches["default"], RedisCache)
    counts = _race_twenty_sign_ins(settings)
    assert counts[429] == 15
    assert counts[401] == 5
