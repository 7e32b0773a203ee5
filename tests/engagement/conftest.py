"""What the engagement tests share: a clock that stands still on a Wednesday, the type of the
`client_for` fixture (tests/conftest.py), and what a refused write looks like."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db.models import Model

from tests.engagement.dates import NOW
from tests.errors import errors

# An API client signed in as the user, or anonymous for None.


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at NOW; a test moves it on with ``clock.shift``."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def assert_refused(
    response: Any, expected: list[tuple[str, str]], model: type[Model], rows: int = 0
) -> None:
    """A 400 naming exactly these fields and codes, the model's rows still ``rows``."""
    assert response.status_code == 400
    assert errors(response) == expected
    assert model._default_manager.count() == rows
