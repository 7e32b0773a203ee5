"""Fixtures of the engagement tests: a clock that stands still on a Wednesday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at NOW; a test moves it on with ``clock.shift``."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
