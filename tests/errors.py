"""Reading an API error answer in tests."""

from __future__ import annotations

from typing import Any


def errors(response: Any) -> list[tuple[str | None, str]]:
    """Each error of the answer as (field or None, code), in order."""
    return [(error["attr"], error["code"]) for error in response.json()["errors"]]
