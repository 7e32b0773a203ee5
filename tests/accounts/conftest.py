"""Fixtures of the accounts tests: a real SMTP server, and API clients whose requests run their
on-commit callbacks (the mail tasks) as a real commit would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.authentication import issue_tokens
from accounts.models import User
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import bearer
from tests.smtp import Mailbox
from tests.smtp import send_mail_to

FRONTEND_URL = "https://app.duet.test"


@pytest.fixture(autouse=True)
def _frontend(settings: SettingsWrapper) -> None:
    settings.FRONTEND_URL = FRONTEND_URL


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
