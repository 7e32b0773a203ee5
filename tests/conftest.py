"""Shared fixtures: API clients signed in as any user, a staff client for the admin, and the
integration-test gate."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import issue_tokens
from accounts.models import User
from tests.processes import reachable
from tests.smtp import Mailbox
from tests.smtp import smtp_server


def integration_unavailable_reason() -> str | None:
    """Why the integration tests cannot run here, or None when PostgreSQL and Redis answer."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return "needs DATABASE_URL pointing at PostgreSQL (see .ci/run)"
    if not redis_url:
        return "needs REDIS_URL pointing at Redis (see .ci/run)"
    if not reachable(database_url, 5432):
        return f"PostgreSQL at {urlparse(database_url).hostname} does not answer"
    if not reachable(redis_url, 6379):
        return f"Redis at {urlparse(redis_url).hostname} does not answer"
    return None


# CI's PostgreSQL pass sets this: there, an integration or browser test that skips (no
# PostgreSQL, no Redis, no Chromium, no redis-server) fails the run instead, with its reason.
REQUIRE_INTEGRATION = "DUET_REQUIRE_INTEGRATION"
MUST_RUN = ("integration", "browser")


def _integration_required() -> bool:
    return os.environ.get(REQUIRE_INTEGRATION, "") not in ("", "0")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not (report.skipped and _integration_required()) or hasattr(report, "wasxfail"):
        return report
    kinds = [kind for kind in MUST_RUN if kind in item.keywords]
    if not kinds:
        return report
    longrepr = report.longrepr
    reason = (longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)).removeprefix(
        "Skipped: "
    )
    report.outcome = "failed"
    report.longrepr = (
        f"{'/'.join(kinds)} test skipped while {REQUIRE_INTEGRATION}=1 requires it to run: {reason}"
    )
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        # Exit 5 is already a failure for make and CI; this says why in words.
        sys.stderr.write("pytest collected no tests (exit 5): nothing was checked\n")
    elif (
        _integration_required()
        and exitstatus == pytest.ExitCode.OK
        and not any("integration" in item.keywords for item in session.items)
    ):
        # A pass that must run the integration tests and ran none (deselected, or the marker
        # lost) proves nothing about them.
        sys.stderr.write(f"{REQUIRE_INTEGRATION}=1 but no integration test was collected\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = integration_unavailable_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"integration test skipped: {reason}")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Throttle counters and cached state never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def mid_window() -> Iterator[None]:
    """Throttle windows are aligned to the clock: hold it still mid-window so none rolls over
    mid-test."""
    now = timezone.now().replace(minute=30, second=30)
    with time_machine.travel(now, tick=False):
        yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


# The `client_for` fixture's type, for the tests that take it.
ClientFor = Callable[[User | None], APIClient]

# The marks of a test whose tasks go through a real broker to a real worker process: send_task
# always goes through the broker, which is the point there.
THROUGH_THE_BROKER = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


@pytest.fixture
def client_for() -> ClientFor:
    """An APIClient signed in as the given user with a real JWT (None: anonymous)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
        return client

    return make


@pytest.fixture
def staff(db: None) -> User:
    """A superuser, for the admin's pages."""
    return User.objects.create_superuser(
        "staff@example.com", "staff-long-passphrase", display_name="Sam Staff"
    )


@pytest.fixture
def staff_client(staff: User) -> Client:
    """A Django test client signed in as `staff`."""
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def smtp_mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on localhost, for the processes a test starts to send to (EMAIL_URL)."""
    with smtp_server() as box:
        yield box


@pytest.fixture
def outbox() -> list[mail.EmailMessage]:
    return mail.outbox


class World:
    """Everyone the permission matrix asks about, around one couple with a therapist.

    `couple` has `partner` and `other_partner` and `therapist`; `outsider` is a partner in
    another couple (`other_couple`) whose therapist is `other_therapist`.
    """

    def __init__(self) -> None:
        from tests.factories import make_couple

        self.couple, self.partner, self.other_partner, therapist = make_couple()
        self.other_couple, self.outsider, self.outsider_partner, other_therapist = make_couple()
        assert therapist is not None
        assert other_therapist is not None
        self.therapist = therapist
        self.other_therapist = other_therapist

    def actor(self, name: str) -> User | None:
        """'anonymous', 'outsider', 'partner', 'other_partner', 'therapist', 'other_therapist'."""
        return None if name == "anonymous" else getattr(self, name)


ACTORS = ("anonymous", "outsider", "partner", "other_partner", "therapist", "other_therapist")


@pytest.fixture
def world(db: None) -> World:
    return World()
