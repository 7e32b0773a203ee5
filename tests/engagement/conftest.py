"""What the engagement tests share: a clock that stands still on a Wednesday, the type of the
`client_for` fixture (tests/conftest.py), and what a refused write looks like."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db.models import Model
from rest_framework.test import APIClient

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


def assert_idempotent_create(
    client: APIClient,
    path: str,
    body: dict[str, Any],
    another_body: dict[str, Any],
    *,
    key: str,
    model: type[Model],
    rows: int,
) -> None:
    """A POST under an Idempotency-Key: the same body again replays the first 201 and writes
    nothing more (``rows`` of the model); another body under the same key is refused with 422."""
    first = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    replay = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == replay.status_code == 201
    assert json.loads(first.content) == json.loads(replay.content)
    assert model._default_manager.count() == rows
    other = client.post(path, another_body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 422
    assert model._default_manager.count() == rows
