"""The reminder and language preferences of `/me/` (SPEC section 2, User)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.client import error_attrs
from tests.accounts.paths import ME
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_reminder_preferences_are_written_and_read_back(
    client_for: Callable[[User], APIClient],
) -> None:
    user = UserFactory.create()
    changes = {
        "checkin_reminder": False,
        "reminder_hour": 7,
        "reminder_email": True,
        "language": "es",
    }
    answer = client_for(user).patch(ME, changes, format="json")
    assert answer.status_code == 200
    assert {key: answer.json()[key] for key in changes} == changes
    user.refresh_from_db()
    assert (user.checkin_reminder, user.reminder_hour, user.reminder_email, user.language) == (
        False,
        7,
        True,
        "es",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reminder_hour", 24),
        ("reminder_hour", -1),
        ("language", "fr"),
        ("language", "ES"),
        ("checkin_reminder", "yes"),
        ("reminder_email", 1),
    ],
)
def test_bad_reminder_preferences_are_refused_and_change_nothing(
    client_for: Callable[[User], APIClient], field: str, value: Any
) -> None:
    user = UserFactory.create()
    answer = client_for(user).patch(ME, {field: value}, format="json")
    assert answer.status_code == 400
    assert error_attrs(answer.json()) == {field}
    user.refresh_from_db()
    assert (user.checkin_reminder, user.reminder_hour, user.reminder_email, user.language) == (
        True,
        20,
        False,
        "en",
    )


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("fr-CA, es;q=0.5", "es"),
        ("en-GB", "en"),
        ("de", "en"),
        ("es;q=0", "en"),
        ("", "en"),
    ],
)
def test_registration_takes_the_language_from_accept_language(
    api_client: APIClient, header: str, language: str
) -> None:
    answer = api_client.post(
        "/api/v1/auth/register/",
        {"email": "new@example.com", "password": "a-long-enough-passphrase", "display_name": "N"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=header,
    )
    assert answer.status_code == 202
    assert User.objects.get(email="new@example.com").language == language
