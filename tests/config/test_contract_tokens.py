"""Every token pair says when each token expires (SPEC section 3)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import jwt
import pytest
import time_machine
from django.core import mail

from tests.accounts.client import CommittingAPIClient
from tests.factories import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 12, 0, 3, 250000, tzinfo=dt.UTC)


def _exp(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return dt.datetime.fromtimestamp(claims["exp"], tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _assert_pair(body: dict[str, Any]) -> None:
    assert set(body) == {"access", "refresh", "access_expires_at", "refresh_expires_at"}
    assert body["access_expires_at"] == _exp(body["access"]) == "2026-11-23T12:15:03.000Z"
    assert body["refresh_expires_at"] == _exp(body["refresh"]) == "2026-12-23T12:00:03.000Z"


@time_machine.travel(NOW, tick=False)
def test_sign_in_and_refresh_say_when_each_token_expires() -> None:
    UserFactory.create(email="sam@example.com")
    api = CommittingAPIClient()
    signed_in = api.post("/api/v1/auth/token/", {"email": "sam@example.com", "password": PASSWORD})
    assert signed_in.status_code == 200
    _assert_pair(signed_in.json())

    refreshed = api.post("/api/v1/auth/token/refresh/", {"refresh": signed_in.json()["refresh"]})
    assert refreshed.status_code == 200
    _assert_pair(refreshed.json())


@time_machine.travel(NOW, tick=False)
def test_verifying_an_address_says_when_each_token_expires() -> None:
    api = CommittingAPIClient()
    registered = api.post(
        "/api/v1/auth/register/",
        {"email": "new@example.com", "password": "a long and fine passphrase", "display_name": "N"},
    )
    assert registered.status_code == 202
    (message,) = mail.outbox
    match = re.search(r"/verify\?token=([^\s\"&<]+)", str(message.body))
    assert match is not None
    verified = api.post("/api/v1/auth/verify/", {"token": match.group(1)})
    assert verified.status_code == 200
    _assert_pair(verified.json())
