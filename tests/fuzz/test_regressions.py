"""What Schemathesis found against the live schema (`make fuzz`), each pinned through the API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Commitment
from engagement.models import Consent
from engagement.models import SafetyAlert
from engagement.models import TherapySession
from tests.conftest import ClientFor
from tests.conftest import World
from tests.errors import assert_json_not_found
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory

pytestmark = pytest.mark.django_db


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return schema


def _component(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    component: dict[str, Any] = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return component


# --- URLs no route matches --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/sessions/0.5/", "/api/v1/checkins/0/", "/api/v1/no-such-thing/"]
)
def test_an_api_url_no_route_matches_answers_404_in_the_error_shape_not_html(
    world: World, client_for: ClientFor, path: str
) -> None:
    assert_json_not_found(client_for(world.therapist).get(path))


def test_a_url_outside_the_api_still_gets_djangos_page(client: Any) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- refused bearer tokens ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer not-a-token", "token_not_valid"),
        ("Bearer", "bad_authorization_header"),
    ],
)
def test_a_refused_bearer_token_answers_one_error_with_simplejwts_code(
    api_client: APIClient, header: str, code: str
) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    # Not spread over `detail`, `code` and `messages.0.token_class` as before.
    assert body["type"] == "client_error"
    assert len(body["errors"]) == 1
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["attr"] is None


def test_the_schema_documents_the_401_codes_the_api_answers() -> None:
    schema = _schema()
    error = _component(schema, "Error401")
    codes = set(_component(schema, error["properties"]["code"]["$ref"])["enum"])
    assert {"not_authenticated", "token_not_valid", "no_active_account", "user_inactive"} <= codes


# --- query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"couple": ""},
        {"status": ""},
        {"updated_since": ""},
        {"couple": [str(uuid.uuid4()), str(uuid.uuid4())]},
    ],
    ids=["empty uuid", "empty choice", "empty datetime", "given twice"],
)
def test_a_filter_given_empty_or_twice_answers_400_naming_it(
    world: World, client_for: ClientFor, query: dict[str, Any]
) -> None:
    response = client_for(world.therapist).get("/api/v1/sessions/", query)
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["attr"] == next(iter(query))


def test_removals_refuse_an_empty_since(world: World, client_for: ClientFor) -> None:
    response = client_for(world.partner).get("/api/v1/removals/", {"since": ""})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "since"


@pytest.mark.parametrize("page_size", ["0", "-1", "true", "1.5", "", "²"])
def test_a_page_size_that_is_not_a_whole_number_from_1_answers_400(
    world: World, client_for: ClientFor, page_size: str
) -> None:
    response = client_for(world.partner).get("/api/v1/couples/", {"page_size": page_size})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "page_size"


def test_page_size_given_twice_answers_400(world: World, client_for: ClientFor) -> None:
    response = client_for(world.partner).get("/api/v1/couples/?page_size=1&page_size=2")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "page_size"


@pytest.mark.parametrize("page_size", ["101", "9" * 5000])
def test_a_page_size_above_100_reads_as_100(
    world: World, client_for: ClientFor, page_size: str
) -> None:
    # 5000 digits: more than int() converts by default; it must not turn into a 500.
    Commitment.objects.bulk_create(
        Commitment(
            couple=world.couple,
            owner=world.partner,
            created_by=world.partner,
            title=f"Promise {n}",
            due_on=dt.date(2026, 11, 23),
            visibility="couple",
        )
        for n in range(101)
    )
    client = client_for(world.partner)
    response = client.get("/api/v1/commitments/", {"page_size": page_size})
    assert response.status_code == 200
    first = response.json()
    assert len(first["results"]) == 100
    assert first["next"] is not None
    rest = client.get(first["next"]).json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    seen = {item["id"] for item in first["results"] + rest["results"]}
    assert len(seen) == 101


@pytest.mark.parametrize(
    "path", [f"/api/v1/checkins/{dt.date.today()}/", "/api/v1/reports/current/"]
)
def test_a_couple_given_twice_answers_400(world: World, client_for: ClientFor, path: str) -> None:
    couple = str(world.couple.pk)
    response = client_for(world.partner).get(f"{path}?couple={couple}&couple={couple}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "couple"


# --- JSON types ---------------------------------------------------------------------------------


def test_a_number_where_a_string_is_due_answers_400_and_changes_nothing(
    world: World, client_for: ClientFor
) -> None:
    commitment = CommitmentFactory.create(
        couple=world.couple, owner=world.partner, created_by=world.partner, details="as it was"
    )
    response = client_for(world.partner).patch(
        f"/api/v1/commitments/{commitment.pk}/", {"details": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "not_a_string", "detail": "Must be a string.", "attr": "details"}
    ]
    assert Commitment.objects.get(pk=commitment.pk).details == "as it was"


def test_session_notes_must_be_a_string(world: World, client_for: ClientFor) -> None:
    session = TherapySessionFactory.create(couple=world.couple, therapist_notes="kept")
    response = client_for(world.therapist).patch(
        f"/api/v1/sessions/{session.pk}/", {"therapist_notes": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "therapist_notes"
    assert TherapySession.objects.get(pk=session.pk).therapist_notes == "kept"


@pytest.mark.parametrize("share", [0, 0.0, 1, "true", "yes", "off"])
def test_a_boolean_must_be_true_or_false(world: World, client_for: ClientFor, share: Any) -> None:
    # DRF read 0.0 as false and "yes" as true; the schema says boolean.
    response = client_for(world.partner).post(
        f"/api/v1/couples/{world.couple.pk}/share-balance/", {"share": share}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "share"
    assert not world.couple.memberships.get(user=world.partner).shares_balance


def test_profile_preferences_take_booleans_only(world: World, client_for: ClientFor) -> None:
    response = client_for(world.partner).patch(
        "/api/v1/me/", {"weekly_digest": "off"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "weekly_digest"
    assert User.objects.get(pk=world.partner.pk).weekly_digest is True


def test_logout_refuses_a_refresh_token_that_is_not_a_string(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/logout/", {"refresh": 0}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "refresh"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/auth/logout/", {"refresh": "p" + "\u00a0" * 5000}, "refresh"),
        ("/api/v1/auth/token/", {"email": "a@b.co" + " " * 300, "password": "x"}, "email"),
    ],
)
def test_a_string_padded_past_its_limit_with_spaces_answers_400(
    api_client: APIClient, path: str, body: dict[str, str], field: str
) -> None:
    # DRF measured max_length after trimming whitespace, so the padding went unnoticed.
    response = api_client.post(path, body, format="json")
    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [("max_length", field)]


# --- what the schema promises -------------------------------------------------------------------


def test_validation_errors_are_documented_with_any_attr_and_code() -> None:
    """drf-standardized-errors enumerated `attr` (`attendance.INDEX.partner`, never the real
    `attendance.0.partner`) and closed `code` sets that missed the API's own codes."""
    schema = _schema()
    attendance = schema["paths"]["/api/v1/sessions/{id}/attendance/"]["put"]
    error_400 = _component(
        schema, attendance["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    )
    refs = [option["$ref"] for option in error_400["oneOf"]]
    validation = next(_component(schema, ref) for ref in refs if "ValidationError" in ref)
    item = _component(schema, validation["properties"]["errors"]["items"]["$ref"])
    assert "enum" not in item["properties"]["attr"]
    assert "enum" not in item["properties"]["code"]
    assert item["properties"]["attr"]["nullable"] is True
    assert "attendance" in item["properties"]["attr"]["description"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/me/"),
        ("get", "/api/v1/checkins/{date}/"),
        ("delete", "/api/v1/checkins/{date}/"),
        ("post", "/api/v1/sessions/"),
    ],
)
def test_operations_that_check_input_document_a_validation_error(method: str, path: str) -> None:
    # A body on DELETE, a date in the path, `?couple=`, the Idempotency-Key header.
    schema = _schema()
    response = schema["paths"][path][method]["responses"]["400"]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    assert "validation_error" in _component(schema, ref)["discriminator"]["mapping"]


def test_every_signed_in_write_documents_403() -> None:
    schema = _schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            signed_in = {"jwtAuth": []} in operation.get("security", [])
            if method in {"post", "put", "patch", "delete"} and signed_in:
                assert "403" in operation["responses"], f"{method.upper()} {path}"


def test_the_caseload_documents_the_403_partners_get(world: World, client_for: ClientFor) -> None:
    assert client_for(world.partner).get("/api/v1/caseload/").status_code == 403
    assert "403" in _schema()["paths"]["/api/v1/caseload/"]["get"]["responses"]


def test_meta_declares_no_security() -> None:
    operation = _schema()["paths"]["/api/v1/meta/"]["get"]
    assert operation.get("security", []) == []
    assert "401" not in operation["responses"]


def test_the_idempotency_key_header_is_documented_with_its_length() -> None:
    operation = _schema()["paths"]["/api/v1/sessions/"]["post"]
    [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}


# --- found in session 3's final run: the safety alerts' filter and the consents' body ----------


@pytest.mark.parametrize("value", ["AAA", "1", "yes", "True"])
def test_the_acknowledged_filter_takes_true_or_false_only(
    world: World, client_for: ClientFor, value: str
) -> None:
    response = client_for(world.therapist).get("/api/v1/safety-alerts/", {"acknowledged": value})
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["acknowledged"]


def test_the_acknowledged_filter_filters(world: World, client_for: ClientFor) -> None:
    day = timezone.localdate()
    seen = SafetyAlert.objects.create(
        couple=world.couple, partner=world.partner, date=day, acknowledged_at=timezone.now()
    )
    open_ = SafetyAlert.objects.create(couple=world.couple, partner=world.partner, date=day)
    client = client_for(world.therapist)

    def ids(value: str) -> list[str]:
        results = client.get("/api/v1/safety-alerts/", {"acknowledged": value}).json()["results"]
        return [a["id"] for a in results]

    assert ids("true") == [str(seen.pk)]
    assert ids("false") == [str(open_.pk)]


@pytest.mark.parametrize("document", [0, 1.5, True, ["privacy"]])
def test_a_consents_document_must_be_a_string(
    world: World, client_for: ClientFor, document: Any
) -> None:
    response = client_for(world.partner).post(
        "/api/v1/me/consents/", {"document": document, "version": "2"}, format="json"
    )
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["document"]
    assert not Consent.objects.exists()


def test_a_write_whose_object_a_concurrent_change_took_from_the_caller_answers_404(
    world: World, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make fuzz` (session 3): the caller's membership ended in another request between the
    # write and the answer's read-back; the read-back found nothing and answered 500.
    from engagement.api import commitments as commitments_api
    from engagement.models import Membership

    commitment = CommitmentFactory.create(couple=world.couple, owner=world.partner)
    resolve = commitments_api.commitment_resolve

    def resolve_then_lose_access(**kwargs: Any) -> Commitment:
        done = resolve(**kwargs)
        Membership.objects.filter(couple=world.couple, user=world.partner).update(
            left_at=timezone.now()
        )
        return done

    monkeypatch.setattr(commitments_api, "commitment_resolve", resolve_then_lose_access)
    response = client_for(world.partner).post(f"/api/v1/commitments/{commitment.pk}/miss/")

    assert response.status_code == 404
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.MISSED  # the write itself stands
