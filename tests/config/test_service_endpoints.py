"""Health, readiness, metadata, API docs and the headers every response carries."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from tests.errors import assert_json_not_found
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_signing_in(api_client: APIClient) -> None:
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_broker(api_client: APIClient) -> None:
    from config.tasks import heartbeat

    heartbeat()  # beat's heartbeat just ran (tests/ops/test_readiness.py: when it did not)
    response = api_client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": True, "broker": True},
        "reasons": [],
    }


def test_readyz_is_unavailable_when_the_broker_is_down(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real connection attempt to a Redis broker where nothing listens, not a mock."""
    from config.celery import app as celery_app

    port = free_port()  # free now, so nothing answers on it
    # broker_write_url first: Celery reads it back as broker_url when unset, so patching it
    # second would record (and later restore) the dead address.
    monkeypatch.setattr(celery_app.conf, "broker_write_url", None)
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{port}/0")

    response = api_client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": True, "broker": False}


@time_machine.travel("2026-11-23T12:00:03.5+00:00", tick=False)
def test_meta_tells_clients_the_server_time_in_utc_and_the_backfill_window(
    api_client: APIClient, settings: object
) -> None:
    response = api_client.get("/api/v1/meta/")
    assert response.status_code == 200
    assert response.json() == {
        "server_time": "2026-11-23T12:00:03.500Z",
        "min_client_version": {"ios": "1.0.0", "android": "1.0.0"},
        "checkin_backfill_days": 14,
        "languages": ["en", "es"],
        "safety_resources": [
            {
                "name": "Emergency services",
                "text": "If you are in danger now, call your local emergency number.",
            }
        ],
        "web_push_public_key": None,
    }


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/meta/", "/api/v1/schema/", "/admin/login/"])
def test_every_response_forbids_caching(api_client: APIClient, path: str) -> None:
    response = api_client.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_a_sane_request_id_is_echoed_and_a_hostile_one_replaced(api_client: APIClient) -> None:
    echoed = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert echoed["X-Request-ID"] == "abc-123"
    replaced = api_client.get("/healthz", HTTP_X_REQUEST_ID="evil\nheader")
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])


def test_unknown_api_path_answers_404_in_the_standard_error_shape(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/no-such-endpoint/", HTTP_ACCEPT="application/json")
    assert_json_not_found(response)


def test_a_wrong_method_answers_405_in_the_standard_error_shape(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/meta/", {}, format="json")
    assert response.status_code == 405
    body = response.json()
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] == "method_not_allowed"
    assert body["errors"][0]["attr"] is None


def test_a_missing_trailing_slash_answers_in_the_standard_error_shape(
    api_client: APIClient,
) -> None:
    response = api_client.get("/api/v1/meta")
    assert response["Content-Type"] == "application/json"
    assert response.json()["type"] == "client_error"


def test_schema_is_openapi_3(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/meta/" in schema["paths"]


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/", "/admin/login/"])
def test_docs_and_admin_pages_load_no_outside_asset(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    # Every script, stylesheet and image is served by the app itself (no internet needed).
    for url in re.findall(r"""(?:src|href)=["']([^"']+)["']""", html):
        assert not re.match(r"^(https?:)?//", url), f"{path} loads an outside asset: {url}"
    assert "/static/" in html


def test_api_answers_carry_security_headers(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/meta/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_docs_pages_may_run_their_own_scripts(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/couples/"])
def test_an_oversized_body_answers_413_never_500(api_client: APIClient, path: str) -> None:
    from tests.factories import UserFactory

    api_client.force_authenticate(UserFactory.create())
    body = '{"name": "' + "x" * (300 * 1024) + '"}'
    response = api_client.post(path, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "request_too_large"


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ('{"name": "\\ud800"}', "name"),
        ('{"name": "ok", "tags": ["fine", "\\udfff"]}', "tags.1"),
        ('{"a": {"b": "\\ud800x"}}', "a.b"),
    ],
)
def test_json_with_a_lone_surrogate_is_refused_naming_the_field(
    api_client: APIClient, body: str, attr: str
) -> None:
    from tests.factories import UserFactory

    api_client.force_authenticate(UserFactory.create())
    response = api_client.post("/api/v1/couples/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
