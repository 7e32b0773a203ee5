"""The checks `make fuzz` adds to Schemathesis (tests/fuzz/hooks.py), on answers made up here."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.fuzz import hooks

FOREIGN = "0b5f3f0e-1111-4a4a-8a8a-000000000001"


def _case(path_id: str | None = None, body: Any = None) -> Any:
    operation = SimpleNamespace(method="post", path="/api/v1/commitments/{id}/keep/")
    return SimpleNamespace(
        operation=operation,
        path_parameters={"id": path_id} if path_id else {},
        body=body,
    )


@pytest.fixture(autouse=True)
def _foreign(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_FOREIGN", frozenset({FOREIGN}))


@pytest.mark.parametrize("status", [200, 201, 204, 403, 409, 422])
def test_an_object_out_of_reach_that_answers_anything_but_404_fails(status: int) -> None:
    with pytest.raises(AssertionError, match="not 404"):
        hooks.foreign_objects_answer_404(None, SimpleNamespace(status_code=status), _case(FOREIGN))


@pytest.mark.parametrize("status", [404, 401, 400])
def test_an_object_out_of_reach_may_answer_404_or_refuse_the_request(status: int) -> None:
    response = SimpleNamespace(status_code=status)
    assert hooks.foreign_objects_answer_404(None, response, _case(FOREIGN)) is True


def test_an_object_in_reach_is_not_this_checks_business() -> None:
    response = SimpleNamespace(status_code=403)
    assert hooks.foreign_objects_answer_404(None, response, _case(str(FOREIGN[:-1] + "2"))) is None


def test_a_deep_body_taken_fails_and_refused_passes() -> None:
    case = _case(body={"title": "x", hooks.DEEP_KEY: hooks._nested(33)})
    with pytest.raises(AssertionError, match="deeper than 32"):
        hooks.deep_json_is_refused(None, SimpleNamespace(status_code=201), case)
    assert hooks.deep_json_is_refused(None, SimpleNamespace(status_code=400), case) is True


def test_deep_bodies_are_deeper_than_32_levels() -> None:
    for depth in hooks.DEPTHS:
        value: Any = hooks._nested(depth)
        levels = 0
        while isinstance(value, list):
            value, levels = (value[0] if value else None), levels + 1
        # Inside the body's own object: one level more.
        assert levels + 1 > 32


def test_forged_cursors_are_well_formed_base64_of_cursor_tokens() -> None:
    for cursor in hooks.FORGED_CURSORS:
        decoded = base64.b64decode(cursor, validate=True).decode()
        assert set(parse_qs(decoded, keep_blank_values=True)) <= {"o", "r", "p", "x"}
