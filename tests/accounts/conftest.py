"""Fixtures of the accounts tests: a real SMTP server, API clients whose requests run their
on-commit callbacks (the mail tasks) as a real commit would, and the cache on both backends."""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Iterator

import pytest
from django.core.cache import caches
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.authentication import issue_tokens
from accounts.models import User
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import bearer
from tests.processes import reachable
from tests.smtp import Mailbox
from tests.smtp import send_mail_to

FRONTEND_URL = "https://app.duet.test"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")


@pytest.fixture(autouse=True)
def _frontend(settings: SettingsWrapper) -> None:
    settings.FRONTEND_URL = FRONTEND_URL


@pytest.fixture(params=["locmem", "redis"])
def backend(request: pytest.FixtureRequest, settings: SettingsWrapper) -> Iterator[str]:
    """The test on the in-process cache and on Redis (where the authentication cache's read
    and the throttles' count are one script: accounts/throttling.py `read_and_count`)."""
    if request.param == "redis":
        if not reachable(REDIS_URL, 6379):
            pytest.skip(f"no Redis at {REDIS_URL}")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": f"duet-test-accounts-{os.getpid()}",
            }
        }
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


@pytest.fixture
def mailbox(settings: SettingsWrapper, smtp_mailbox: Mailbox) -> Mailbox:
    """Mail goes through Django's SMTP backend to a real server on localhost."""
    send_mail_to(settings, smtp_mailbox)
    return smtp_mailbox


@pytest.fixture
def api() -> CommittingAPIClient:
    return CommittingAPIClient()


SignedIn = Callable[[User], tuple[CommittingAPIClient, dict[str, str]]]


@pytest.fixture
def signed_in() -> SignedIn:
    """A client signed in as the user, and the token pair it uses."""

    def make(user: User) -> tuple[CommittingAPIClient, dict[str, str]]:
        pair = issue_tokens(user)
        return bearer(pair["access"]), pair

    return make
