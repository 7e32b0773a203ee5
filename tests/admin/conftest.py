"""Fixtures of the admin tests: a superuser and a client signed in as them."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser(
        "staff@example.com", "staff-long-passphrase", display_name="Sam Staff"
    )


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client
