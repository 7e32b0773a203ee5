"""Hostile and clumsy input on the session, commitment, check-in and removal endpoints.

Every bad request answers a 4xx naming the field and writes nothing; lists cost the same number
of queries whatever the page size; a write that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from engagement.models import Attendance
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Removal
from engagement.models import TherapySession
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import AttendanceFactory
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[Any, ...]:
    """Everything these endpoints could write, to prove a refused request wrote nothing."""
    return (
        list(TherapySession.objects.order_by("pk").values()),
        list(Attendance.objects.order_by("pk").values()),
        list(Commitment.objects.order_by("pk").values()),
        list(CheckIn.objects.order_by("pk").values()),
        Removal.objects.count(),
    )


class Setup:
    def __init__(self, world: World) -> None:
        self.world = world
        self.session: TherapySession = TherapySessionFactory.create(
            couple=world.couple, starts_at=timezone.now() - timedelta(hours=1)
        )
        self.commitment: Commitment = CommitmentFactory.create(
            couple=world.couple, owner=world.partner
        )

    def writes(self) -> dict[str, tuple[str, str, dict[str, Any], str]]:
        """name: (method, path, a valid body, who sends it)."""
        w = self.world
        today = timezone.now().date()
        return {
            "create session": (
                "post",
                "/api/v1/sessions/",
                {
                    "couple": str(w.couple.pk),
                    "kind": "individual",
                    "focus_partner": str(w.partner.pk),
                    "starts_at": "2026-11-20T18:00:00Z",
                    "duration_minutes": 50,
                    "therapist_notes": "ok",
                },
                "therapist",
            ),
            "edit session": (
                "patch",
                f"/api/v1/sessions/{self.session.pk}/",
                {
                    "starts_at": "2026-11-20T18:00:00Z",
                    "duration_minutes": 60,
                    "status": "cancelled",
                },
                "therapist",
            ),
            "record attendance": (
                "put",
                f"/api/v1/sessions/{self.session.pk}/attendance/",
                {
                    "attendance": [
                        {"partner": str(w.partner.pk), "status": "attended", "participation": 2},
                        {"partner": str(w.other_partner.pk), "status": "late", "participation": 1},
                    ]
                },
                "therapist",
            ),
            "create commitment": (
                "post",
                "/api/v1/commitments/",
                {
                    "couple": str(w.couple.pk),
                    "owner": str(w.partner.pk),
                    "title": "Walk",
                    "details": "Together",
                    "due_on": "2026-11-29",
                    "visibility": "couple",
                },
                "therapist",
            ),
            "edit commitment": (
                "patch",
                f"/api/v1/commitments/{self.commitment.pk}/",
                {"title": "Walk", "details": "x", "due_on": "2026-11-29", "visibility": "couple"},
                "partner",
            ),
            "renew commitment": (
                "post",
                f"/api/v1/commitments/{self.commitment.pk}/renew/",
                {"due_on": "2026-12-06", "title": "Again"},
                "partner",
            ),
            "put check-in": (
                "put",
                f"/api/v1/checkins/{today}/",
                {
                    "couple": str(w.couple.pk),
                    "visibility": "couple",
                    "mood": 3,
                    "effort": 3,
                    "connection": 3,
                    "resentment": 3,
                    "wellbeing": 3,
                    "note": "fine",
                },
                "partner",
            ),
        }


WRITE_NAMES = [
    "create session",
    "edit session",
    "record attendance",
    "create commitment",
    "edit commitment",
    "renew commitment",
    "put check-in",
]


def _send(client: APIClient, method: str, path: str, **kwargs: Any) -> Any:
    return getattr(client, method)(path, **kwargs)


def _send_raw(
    world: World, client_for: ClientFor, name: str, raw: str, content_type: str
) -> tuple[Any, Any]:
    """The write ``name`` sent by who may make it, with this body as it is: the answer, and the
    database as it was before."""
    method, path, _, who = Setup(world).writes()[name]
    before = _snapshot()
    client = client_for(world.actor(who))
    return _send(client, method, path, data=raw, content_type=content_type), before


@pytest.mark.parametrize("name", WRITE_NAMES)
def test_a_body_over_the_limit_answers_413_and_writes_nothing(
    world: World, client_for: ClientFor, settings: Any, name: str
) -> None:
    setup = Setup(world)
    method, path, body, who = setup.writes()[name]
    before = _snapshot()
    padded = {**body, "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = getattr(client_for(world.actor(who)), method)(path, padded, format="json")
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "request_too_large"
    assert _snapshot() == before


@pytest.mark.parametrize("name", WRITE_NAMES)
def test_a_body_that_is_not_json_answers_415_and_writes_nothing(
    world: World, client_for: ClientFor, name: str
) -> None:
    response, before = _send_raw(
        world, client_for, name, "couple=x&title=y", "application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert _snapshot() == before


@pytest.mark.parametrize("name", WRITE_NAMES)
@pytest.mark.parametrize("raw", ['{"title": ', "[1, 2", "\x00", '{"a": NaN}'])
def test_malformed_json_answers_400_and_writes_nothing(
    world: World, client_for: ClientFor, name: str, raw: str
) -> None:
    response, before = _send_raw(world, client_for, name, raw, "application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert _snapshot() == before


@pytest.mark.parametrize("name", WRITE_NAMES)
@pytest.mark.parametrize(
    "payload", ["a string", 42, None, True], ids=["str", "int", "null", "bool"]
)
def test_a_json_body_that_is_not_an_object_answers_400(
    world: World, client_for: ClientFor, name: str, payload: Any
) -> None:
    response, before = _send_raw(world, client_for, name, json.dumps(payload), "application/json")
    assert response.status_code == 400, response.content
    assert _snapshot() == before


HOSTILE = [
    None,
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x" * 20_000,
    -1,
    10**40,
    1.5,
    True,
    [],
    ["a"],
    {},
    {"$gt": ""},
    "00000000-0000-0000-0000-000000000000",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01",
]


@pytest.mark.parametrize("name", WRITE_NAMES)
def test_hostile_values_in_any_field_answer_400_naming_the_field_never_500(
    world: World, client_for: ClientFor, name: str
) -> None:
    setup = Setup(world)
    method, path, body, who = setup.writes()[name]
    client = client_for(world.actor(who))
    fields = [key for key in body if key != "attendance"]
    if name == "record attendance":
        fields = ["attendance"]
    for field in fields:
        for value in HOSTILE:
            before = _snapshot()
            # json.dumps escapes a lone surrogate as "\ud800", as a hostile client would send it.
            raw = json.dumps({**body, field: value})
            response = _send(client, method, path, data=raw, content_type="application/json")
            label = f"{field}={value!r:.40}"
            assert response.status_code < 500, label
            if response.status_code == 400:
                errors = response.json()["errors"]
                assert all(e["attr"] not in (None, "non_field_errors") for e in errors), label
                assert _snapshot() == before, label


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("partner", "\x00"),
        ("partner", 12),
        ("status", None),
        ("status", ["attended"]),
        ("participation", "2"),
        ("participation", -1),
        ("participation", 2.5),
    ],
)
def test_hostile_attendance_entries_name_the_entry_and_field(
    world: World, client_for: ClientFor, field: str, value: Any
) -> None:
    setup = Setup(world)
    _, path, body, _ = setup.writes()["record attendance"]
    entries = [dict(entry) for entry in body["attendance"]]
    entries[1][field] = value
    before = _snapshot()
    response = client_for(world.therapist).put(path, {"attendance": entries}, format="json")
    if field == "participation" and value == "2":
        # A numeric string is read as the number, as DRF reads integers.
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content
    assert [e["attr"] for e in response.json()["errors"]] == [f"attendance.1.{field}"]
    assert _snapshot() == before


def test_unknown_fields_are_ignored(world: World, client_for: ClientFor) -> None:
    response = client_for(world.therapist).post(
        "/api/v1/sessions/",
        {
            "couple": str(world.couple.pk),
            "kind": "joint",
            "starts_at": "2026-11-20T18:00:00Z",
            "id": "00000000-0000-4000-8000-000000000000",
            "created_by": str(world.partner.pk),
            "is_admin": True,
        },
        format="json",
    )
    assert response.status_code == 201
    session = TherapySession.objects.get()
    assert str(session.pk) != "00000000-0000-4000-8000-000000000000"
    assert session.created_by == world.therapist


def test_a_datetime_without_an_offset_is_refused(world: World, client_for: ClientFor) -> None:
    response = client_for(world.therapist).post(
        "/api/v1/sessions/",
        {"couple": str(world.couple.pk), "kind": "joint", "starts_at": "2026-11-20T18:00:00"},
        format="json",
    )
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("starts_at", "naive")]


@pytest.mark.parametrize("key", ["", "k" * 256, "bad\nkey"])
def test_a_bad_idempotency_key_answers_400_naming_the_header(
    world: World, client_for: ClientFor, key: str
) -> None:
    response = client_for(world.therapist).post(
        "/api/v1/sessions/",
        {"couple": str(world.couple.pk), "kind": "joint", "starts_at": "2026-11-20T18:00:00Z"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert not TherapySession.objects.exists()


def test_a_delete_that_fails_half_way_leaves_everything_in_place(
    world: World, client_for: ClientFor
) -> None:
    session = TherapySessionFactory.create(couple=world.couple)
    client = client_for(world.therapist)
    client.raise_request_exception = False
    with mock.patch(
        "engagement.models.TherapySession.delete", side_effect=RuntimeError("disk full")
    ):
        response = client.delete(f"/api/v1/sessions/{session.pk}/")
    assert response.status_code == 500
    assert TherapySession.objects.filter(pk=session.pk).exists()
    assert not Removal.objects.exists()


def test_a_narrowing_that_fails_half_way_leaves_no_removals(
    world: World, client_for: ClientFor
) -> None:
    checkin = CheckInFactory.create(couple=world.couple, author=world.partner, visibility="couple")
    client = client_for(world.partner)
    client.raise_request_exception = False
    with mock.patch("engagement.models.CheckIn.save", side_effect=RuntimeError("disk full")):
        response = client.put(
            f"/api/v1/checkins/{checkin.date}/",
            {"couple": str(world.couple.pk), "visibility": "private", "mood": 3},
            format="json",
        )
    assert response.status_code == 500
    checkin.refresh_from_db()
    assert checkin.visibility == "couple"
    assert not Removal.objects.exists()


# --- constant query counts ---------------------------------------------------------------------


def _fill(world: World, count: int) -> None:
    now = timezone.now()
    for n in range(count):
        session = TherapySessionFactory.create(couple=world.couple, starts_at=now - timedelta(n))
        AttendanceFactory.create(session=session, partner=world.partner, participation=2)
        AttendanceFactory.create(session=session, partner=world.other_partner, participation=1)
        CommitmentFactory.create(couple=world.couple, owner=world.partner)
        CheckInFactory.create(
            couple=world.couple, author=world.partner, date=now.date() - timedelta(n)
        )
        Removal.objects.create(
            user=world.partner, type="session", object_id=session.pk, removed_at=now
        )


@pytest.mark.parametrize(
    "path", ["/api/v1/sessions/", "/api/v1/commitments/", "/api/v1/checkins/", "/api/v1/removals/"]
)
@pytest.mark.parametrize("actor", ["partner", "therapist"])
def test_a_list_costs_the_same_queries_for_one_row_or_a_hundred(
    world: World, client_for: ClientFor, path: str, actor: str
) -> None:
    _fill(world, 6)
    client = client_for(world.actor(actor))
    # The first request also reads the caller's row into the authentication cache
    # (accounts/auth_cache.py): one query, whatever the page.
    assert client.get(path).status_code == 200
    counts = []
    for page_size in (1, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, {"page_size": page_size})
        assert response.status_code == 200
        counts.append(len(queries))
        sync = client.get(path, {"page_size": page_size, "updated_since": "2000-01-01T00:00:00Z"})
        assert sync.status_code == 200
    assert counts[0] == counts[1]
    assert counts[1] <= 5


@pytest.mark.parametrize("actor", ["partner", "therapist"])
def test_the_check_in_list_of_one_couple_costs_the_same_queries_for_one_row_or_a_hundred(
    world: World, client_for: ClientFor, actor: str
) -> None:
    """`?couple=` alone (the list's narrowed path, issue 20): the caller's reach and the page,
    and for a therapist the audit of the read (their roles, one insert)."""
    _fill(world, 6)
    client = client_for(world.actor(actor))
    assert client.get("/api/v1/checkins/", {"couple": str(world.couple.pk)}).status_code == 200
    counts = []
    for page_size in (1, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                "/api/v1/checkins/", {"couple": str(world.couple.pk), "page_size": page_size}
            )
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(page_size, 6)
        counts.append(len(queries))
    assert counts == ([2, 2] if actor == "partner" else [4, 4])
