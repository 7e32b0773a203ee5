"""Fixtures of the engagement tests: a clock that stands still on a Wednesday."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from tests.engagement.dates import NOW


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at NOW; a test moves it on with ``clock.shift``."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
