"""A web app on an allowed origin may send what the API reads and read what it writes
(SPEC section 3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ORIGIN = "https://app.duet.example"


@pytest.fixture(autouse=True)
def _allowed_origin(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]


def test_a_preflight_with_idempotency_key_and_if_none_match_succeeds() -> None:
    response = Client().options(
        "/api/v1/invitations/",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=(
            "authorization, content-type, idempotency-key, if-none-match, accept-language"
        ),
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {
        "authorization",
        "content-type",
        "idempotency-key",
        "if-none-match",
        "accept-language",
    } <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_answers_expose_the_headers_the_api_writes() -> None:
    response = Client().get("/api/v1/meta/", HTTP_ORIGIN=ORIGIN)
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {
        "ETag",
        "Retry-After",
        "Idempotent-Replayed",
        "X-Request-ID",
        "Content-Language",
    }


def test_json_errors_carry_cors_headers_too() -> None:
    response = Client().get("/api/v1/nowhere/", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_another_origin_is_not_allowed() -> None:
    response = Client().options(
        "/api/v1/invitations/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="idempotency-key",
    )
    assert "Access-Control-Allow-Origin" not in response
