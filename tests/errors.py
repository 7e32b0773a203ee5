"""Reading an API error answer in tests."""

from __future__ import annotations

from typing import Any


def errors(response: Any) -> list[tuple[str | None, str]]:
    """Each error of the answer as (field or None, code), in order."""
    return [(error["attr"], error["code"]) for error in response.json()["errors"]]


def assert_json_not_found(response: Any) -> None:
    """A 404 in the API's error shape (SPEC section 3), not Django's HTML page."""
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }
