"""The schema is written for client generators (SPEC section 3, docs/clients.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import World
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(SchemaGenerator().get_schema(request=None, public=True))


def _operations(schema: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        operation["operationId"]: (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_operation_ids_are_stable_verbs(schema: dict[str, Any]) -> None:
    operations = _operations(schema)
    expected = {
        "checkinsPut": ("/api/v1/checkins/{date}/", "put"),
        "commitmentsKeep": ("/api/v1/commitments/{id}/keep/", "post"),
        "invitationsAccept": ("/api/v1/invitations/accept/", "post"),
        "reportsCurrent": ("/api/v1/reports/current/", "get"),
        "couplesList": ("/api/v1/couples/", "get"),
        "couplesCreate": ("/api/v1/couples/", "post"),
        "couplesRetrieve": ("/api/v1/couples/{id}/", "get"),
        "couplesUpdate": ("/api/v1/couples/{id}/", "patch"),
        "sessionsDelete": ("/api/v1/sessions/{id}/", "delete"),
        "authToken": ("/api/v1/auth/token/", "post"),
    }
    for operation_id, (path, method) in expected.items():
        assert operations[operation_id][:2] == (path, method)
    count = sum(1 for item in schema["paths"].values() for method in item if method in METHODS)
    assert len(operations) == count, "operationIds must be unique"
    assert all(re.fullmatch(r"[a-z][A-Za-z]*", name) for name in operations)


def test_one_shared_error_component_per_kind(schema: dict[str, Any]) -> None:
    names = set(schema["components"]["schemas"])
    per_operation = {n for n in names if re.search(r".ErrorResponse400|.ValidationError", n)}
    assert per_operation == set()
    for _path, _method, operation in _operations(schema).values():
        if operation["operationId"].startswith("digestsUnsubscribe"):
            continue  # a page for people: its errors are HTML (SPEC section 3)
        for status_code, response in operation["responses"].items():
            if status_code.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == f"#/components/schemas/ErrorResponse{status_code}"


def test_only_statuses_an_operation_can_answer(schema: dict[str, Any]) -> None:
    operations = _operations(schema)
    for _path, _method, operation in operations.values():
        responses = operation["responses"]
        if "requestBody" not in operation:
            assert "415" not in responses, operation["operationId"]
            assert "413" not in responses, operation["operationId"]
    for name in ("commitmentsKeep", "commitmentsMiss", "couplesLeave", "invitationsRevoke"):
        assert "400" not in operations[name][2]["responses"], name
    assert "404" not in operations["authRegister"][2]["responses"]
    assert "422" not in operations["authToken"][2]["responses"]
    assert "422" in operations["couplesCreate"][2]["responses"]


def test_304_and_response_headers_are_documented(schema: dict[str, Any]) -> None:
    headers = schema["components"]["headers"]
    assert set(headers) >= {
        "ETag",
        "Retry-After",
        "X-Request-ID",
        "Content-Language",
        "Idempotent-Replayed",
    }
    operations = _operations(schema)
    for name in ("couplesList", "couplesRetrieve", "meRetrieve", "reportsCurrent"):
        operation = operations[name][2]
        assert "ETag" in operation["responses"]["200"]["headers"]
        assert "ETag" in operation["responses"]["304"]["headers"]
        assert any(p["name"] == "If-None-Match" for p in operation["parameters"])
    assert "Retry-After" in operations["authToken"][2]["responses"]["429"]["headers"]
    assert "Idempotent-Replayed" in operations["couplesCreate"][2]["responses"]["201"]["headers"]
    assert schema["servers"][0]["url"]


def test_field_shapes_suit_generators(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    assert "NullEnum" not in schemas
    assert "timezone" in schemas["Me"]["required"]
    assert set(schemas["TokenPair"]["required"]) == {
        "access",
        "refresh",
        "access_expires_at",
        "refresh_expires_at",
    }
    assert "timezone" not in schemas["RegisterRequest"]["required"]
    assert "default" not in schemas["RegisterRequest"]["properties"]["timezone"]
    assert "default" not in schemas["CheckInPutRequest"]["properties"]["note"]
    gap_trend = schemas["WeeklyReport"]["properties"]["gap_trend"]
    assert gap_trend["nullable"] is True
    assert None in gap_trend["enum"]
    text = str(schema)
    assert "api.example.org" not in text


def _missing_required(
    schema: dict[str, Any], node: dict[str, Any], value: Any, where: str
) -> list[str]:
    """Where a value lacks a property its schema marks required (no full validation)."""
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if value is None:
        return []
    missing: list[str] = []
    for part in node.get("allOf", []):
        missing += _missing_required(schema, part, value, where)
    if isinstance(value, dict) and "properties" in node:
        missing += [f"{where}.{name}" for name in node.get("required", []) if name not in value]
        for name, inner in node["properties"].items():
            if name in value:
                missing += _missing_required(schema, inner, value[name], f"{where}.{name}")
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            missing += _missing_required(schema, node["items"], item, f"{where}.{index}")
    return missing


def test_fields_marked_required_are_always_present(
    schema: dict[str, Any], world: World, client_for: Callable[[User | None], APIClient]
) -> None:
    CheckInFactory.create(couple=world.couple, author=world.partner)
    CommitmentFactory.create(couple=world.couple, owner=world.partner)
    TherapySessionFactory.create(couple=world.couple)
    operations = _operations(schema)
    couple = world.couple.pk
    reads = {
        "meRetrieve": "/api/v1/me/",
        "meExport": "/api/v1/me/export/",
        "metaRetrieve": "/api/v1/meta/",
        "couplesList": "/api/v1/couples/",
        "couplesRetrieve": f"/api/v1/couples/{couple}/",
        "commitmentsList": "/api/v1/commitments/",
        "checkinsList": f"/api/v1/checkins/?couple={couple}",
        "sessionsList": "/api/v1/sessions/",
        "invitationsList": "/api/v1/invitations/",
        "reportsCurrent": f"/api/v1/reports/current/?couple={couple}",
        "removalsList": "/api/v1/removals/",
    }
    for user in (world.partner, world.therapist):
        client = client_for(user)
        for name, path in reads.items():
            response = client.get(path)
            assert response.status_code == 200, path
            node = operations[name][2]["responses"]["200"]["content"]["application/json"]["schema"]
            assert _missing_required(schema, node, response.json(), name) == []
    caseload = client_for(world.therapist).get("/api/v1/caseload/")
    node = operations["caseloadRetrieve"][2]["responses"]["200"]["content"]["application/json"]
    assert _missing_required(schema, node["schema"], caseload.json(), "caseload") == []
