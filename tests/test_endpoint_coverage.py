"""Every operation of the schema is guarded: 401 without a token, and a permission matrix.

The schema is the list of endpoints; a new endpoint that is not public must answer 401 to an
anonymous caller and be named below with the matrix test that walks it for every actor
(outsider 404, partner, other partner, therapist, another therapist).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

TESTS = Path(__file__).resolve().parent

# Operations any client may call without a token (sign-up, sign-in, recovery, metadata, and
# the one-click unsubscribe link mail clients POST to).
PUBLIC = {
    ("GET", "/api/v1/meta/"),
    ("POST", "/api/v1/auth/register/"),
    ("POST", "/api/v1/auth/verify/"),
    ("POST", "/api/v1/auth/token/"),
    ("POST", "/api/v1/auth/token/refresh/"),
    ("POST", "/api/v1/auth/logout/"),
    ("POST", "/api/v1/auth/password/reset/"),
    ("POST", "/api/v1/auth/password/reset/confirm/"),
    ("GET", "/api/v1/digests/unsubscribe/"),
    ("POST", "/api/v1/digests/unsubscribe/"),
}

# Where each family of endpoints is walked for every actor of tests/conftest.py `World`.
MATRICES = {
    "/api/v1/couples/": "engagement/test_permission_matrix_couples.py",
    "/api/v1/invitations/": "engagement/test_permission_matrix_couples.py",
    "/api/v1/sessions/": "engagement/test_permission_matrix_resources.py",
    "/api/v1/commitments/": "engagement/test_permission_matrix_resources.py",
    "/api/v1/checkins/": "engagement/test_permission_matrix_resources.py",
    "/api/v1/removals/": "engagement/test_permission_matrix_resources.py",
    "/api/v1/reports/": "engagement/reports/test_reports_api.py",
    "/api/v1/caseload/": "engagement/reports/test_reports_api.py",
    # The caller's own account: there is no one else's object to reach.
    "/api/v1/me/export/": "accounts/test_export.py",
    "/api/v1/me/devices/": "accounts/test_devices.py",
    "/api/v1/me/": "accounts/test_me.py",
    "/api/v1/auth/password/change/": "accounts/test_passwords.py",
}


def _operations() -> list[tuple[str, str]]:
    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


OPERATIONS = _operations()
SECURED = [op for op in OPERATIONS if op not in PUBLIC]


def _concrete(path: str) -> str:
    path = path.replace("{date}", "2026-11-23")
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def test_the_schema_lists_the_endpoints_of_the_spec() -> None:
    assert len(OPERATIONS) >= 50
    assert set(OPERATIONS) >= PUBLIC


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), SECURED, ids=[f"{m} {p}" for m, p in SECURED])
def test_every_secured_operation_answers_401_without_a_token(method: str, path: str) -> None:
    response = APIClient().generic(method, _concrete(path), "{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] in {"not_authenticated", "authentication_failed"}


@pytest.mark.parametrize(("method", "path"), SECURED, ids=[f"{m} {p}" for m, p in SECURED])
def test_every_secured_operation_is_walked_by_a_permission_matrix(method: str, path: str) -> None:
    family = next((prefix for prefix in MATRICES if path.startswith(prefix)), None)
    assert family is not None, f"{method} {path} is in no permission matrix: add it"
    source = (TESTS / MATRICES[family]).read_text()
    # Every fixed segment of the path appears in the matrix module that claims it.
    for segment in path.removeprefix("/api/v1/").strip("/").split("/"):
        if not segment.startswith("{"):
            assert segment in source, f"{MATRICES[family]} never mentions '{segment}' of {path}"
