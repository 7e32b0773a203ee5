"""Error details follow Accept-Language, answered with Content-Language; codes never change
(SPEC section 3)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from config.locale import compiled_catalogs
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(client_for: Callable[[User | None], APIClient]) -> APIClient:
    return client_for(UserFactory.create())


def test_english_is_the_default_and_is_said(partner: APIClient) -> None:
    response = partner.get("/api/v1/me/")
    assert response["Content-Language"] == "en"
    assert "Accept-Language" in response["Vary"]


def test_a_spanish_client_reads_djangos_and_drfs_messages_in_spanish(partner: APIClient) -> None:
    response = partner.post(
        "/api/v1/auth/token/", {"password": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    assert response["Content-Language"] == "es"
    assert response.json()["errors"] == [
        {"code": "required", "detail": "Este campo es requerido.", "attr": "email"}
    ]


def test_a_spanish_client_reads_the_projects_own_messages_in_spanish(partner: APIClient) -> None:
    response = partner.get(
        "/api/v1/commitments/?status=kept&status=missed", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9"
    )
    assert response.status_code == 400
    assert response["Content-Language"] == "es"
    assert response.json()["errors"] == [
        {"code": "multiple_values", "detail": "Indica este filtro una sola vez.", "attr": "status"}
    ]


def test_the_json_404_of_an_unroutable_path_is_translated(partner: APIClient) -> None:
    response = partner.post("/api/v1/couples", {}, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    assert response["Content-Language"] == "es"
    assert response.json()["errors"] == [
        {
            "code": "not_found",
            "detail": "No encontrado. Las rutas de la API terminan con una barra: /api/v1/couples/",
            "attr": None,
        }
    ]


def test_an_unknown_language_reads_english(partner: APIClient) -> None:
    response = partner.post(
        "/api/v1/auth/token/", {"password": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="fi"
    )
    assert response["Content-Language"] == "en"
    assert response.json()["errors"][0]["detail"] == "This field is required."


def test_the_committed_catalogs_are_compiled_from_their_po_files() -> None:
    compiled = compiled_catalogs()
    assert compiled, "locale/ holds no catalog"
    for mo_path, content in compiled.items():
        assert mo_path.read_bytes() == content, f"run `make messages`: {mo_path} is stale"
