"""Fixtures of the engagement tests: a clock that stands still on a Wednesday, and the type of
the `client_for` fixture (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.models import User
from tests.engagement.dates import NOW

# An API client signed in as the user, or anonymous for None.
ClientFor = Callable[[User | None], APIClient]


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at NOW; a test moves it on with ``clock.shift``."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
