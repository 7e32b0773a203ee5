"""Error details follow Accept-Language, answered with Content-Language; codes never change
(SPEC section 3)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from config.locale import compiled_catalogs
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ENGLISH_MONTHS = set(calendar.month_name[1:])


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


@pytest.mark.parametrize("language", ["es", "en"])
def test_an_email_queued_by_a_spanish_request_is_not_written_in_its_language(
    client_for: Callable[[User | None], APIClient], language: str
) -> None:
    """Emails follow the recipient (SPEC section 3), not the Accept-Language of whoever caused
    them; a task run eagerly starts from the default language, as on a worker."""
    from django.test import TestCase

    from tests.factories import make_couple

    couple, partner, _other, _therapist = make_couple(therapist=False)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(partner).post(
            "/api/v1/invitations/",
            {"couple": str(couple.pk), "email": "x@example.com", "role": "therapist"},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
    assert response.status_code == 201, response.json()
    assert response["Content-Language"] == language
    (message,) = mail.outbox
    assert "The link works once and until" in str(message.body)
    month = re.search(r"until \d+ (\w+) \d{4}", str(message.body))
    assert month is not None
    assert month.group(1) in ENGLISH_MONTHS
