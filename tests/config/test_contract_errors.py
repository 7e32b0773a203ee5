"""Every answer under /api/ is JSON in the one error shape, DEBUG on or off (SPEC section 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Couple
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["prod", "debug"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.fixture
def partner_client(client_for: Callable[[User | None], APIClient]) -> APIClient:
    return client_for(UserFactory.create())


def _only_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    assert set(error) == {"code", "detail", "attr"}
    return {"type": body["type"], **error}


def _error(type_: str, code: str, detail: str) -> dict[str, Any]:
    """The one error of an answer, with its type, as `_only_error` reads it (no field)."""
    return {"type": type_, "code": code, "detail": detail, "attr": None}


def test_an_unroutable_api_path_answers_a_json_404(debug: bool, partner_client: APIClient) -> None:
    response = partner_client.get("/api/v1/sessions/0.5/")
    assert response.status_code == 404
    assert _only_error(response) == _error("client_error", "not_found", "Not found.")


def test_a_post_without_its_trailing_slash_answers_a_json_404_naming_the_path(
    debug: bool, partner_client: APIClient
) -> None:
    response = partner_client.post("/api/v1/couples", {"name": "Us"}, format="json")
    assert response.status_code == 404
    error = _only_error(response)
    assert error["code"] == "not_found"
    assert error["detail"] == "Not found. API paths end with a slash: /api/v1/couples/"
    assert not Couple.objects.exists()


def test_a_get_without_its_trailing_slash_is_not_redirected(
    debug: bool, partner_client: APIClient
) -> None:
    response = partner_client.get("/api/v1/couples")
    assert response.status_code == 404
    assert _only_error(response)["detail"].endswith("/api/v1/couples/")


def test_a_wrong_method_answers_a_json_405(debug: bool, partner_client: APIClient) -> None:
    response = partner_client.delete("/api/v1/couples/")
    assert response.status_code == 405
    error = _only_error(response)
    assert error["code"] == "method_not_allowed"
    assert error["detail"] == 'Method "DELETE" not allowed.'


def test_an_unknown_host_answers_a_json_400(debug: bool) -> None:
    response = Client(HTTP_HOST="evil.example").get("/api/v1/meta/")
    assert response.status_code == 400
    assert _only_error(response)["code"] == "bad_request"


def test_a_crash_outside_any_view_answers_a_json_500(debug: bool, monkeypatch: Any) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("config.api.middleware.ApiCommonMiddleware.process_request", explode)
    response = Client(raise_request_exception=False).get("/api/v1/meta/")
    assert response.status_code == 500
    assert _only_error(response) == _error("server_error", "error", "A server error occurred.")


def test_outside_the_api_django_still_appends_the_slash(debug: bool) -> None:
    response = Client().get("/admin")
    assert response.status_code == 301
    assert response["Location"] == "/admin/"


def test_the_unsubscribe_page_stays_html(debug: bool) -> None:
    response = Client().get("/api/v1/digests/unsubscribe/?token=nonsense")
    assert response["Content-Type"].startswith("text/html")
