"""Sessions and attendance through the API: lifecycle, who sees what, and who may change it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Attendance
from engagement.models import Couple
from engagement.models import Removal
from engagement.models import TherapySession
from tests.conftest import ClientFor
from tests.conftest import World
from tests.engagement.conftest import assert_idempotent_create
from tests.engagement.conftest import assert_refused
from tests.errors import errors
from tests.factories import AttendanceFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def _detail(session: TherapySession | str) -> str:
    return f"{SESSIONS}{getattr(session, 'pk', session)}/"


def _attendance(session: TherapySession | str) -> str:
    return f"{_detail(session)}attendance/"


def _record(client: APIClient, session: TherapySession | str, *entries: dict[str, Any]) -> Any:
    """PUT the session's attendance: these entries, as they are."""
    return client.put(_attendance(session), {"attendance": list(entries)}, format="json")


def _past(hours: int = 2) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _joint(world: World, **fields: Any) -> TherapySession:
    fields.setdefault("starts_at", timezone.now() - timedelta(hours=2))
    session: TherapySession = TherapySessionFactory.create(
        couple=world.couple, created_by=world.therapist, **fields
    )
    return session


def _individual(world: World, focus: User, **fields: Any) -> TherapySession:
    return _joint(world, kind=TherapySession.Kind.INDIVIDUAL, focus_partner=focus, **fields)


def _create(client: APIClient, couple: Couple, **fields: Any) -> Any:
    """POST a session of the couple: a joint one two hours ago, but for ``fields``."""
    body = {"couple": str(couple.pk), "kind": "joint", "starts_at": _past(), **fields}
    return client.post(SESSIONS, body, format="json")


def _assert_writes_refused(client: APIClient, world: World, status: int) -> None:
    """Scheduling a session, editing and deleting the couple's one session all answer
    ``status``, and the session stays the only one."""
    [session] = TherapySession.objects.all()
    assert _create(client, world.couple).status_code == status
    edited = client.patch(_detail(session), {"duration_minutes": 60}, format="json")
    assert edited.status_code == status
    assert client.delete(_detail(session)).status_code == status
    assert TherapySession.objects.count() == 1


# --- lifecycle ---------------------------------------------------------------------------------


def test_a_therapist_schedules_records_edits_and_deletes_a_joint_session(
    world: World, client_for: ClientFor
) -> None:
    therapist = client_for(world.therapist)
    created = _create(therapist, world.couple)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["kind"] == "joint"
    assert body["status"] == "scheduled"
    assert body["duration_minutes"] == 50
    assert body["focus_partner"] is None
    assert body["attendance"] == []
    assert body["therapist_notes"] == ""
    assert body["starts_at"].endswith("Z")
    session_id = body["id"]

    recorded = _record(
        therapist,
        session_id,
        {"partner": str(world.partner.pk), "status": "attended", "participation": 3},
        {"partner": str(world.other_partner.pk), "status": "late", "participation": 1},
    )
    assert recorded.status_code == 200, recorded.json()
    assert recorded.json()["status"] == "completed"
    assert {
        (a["partner"], a["status"], a["participation"]) for a in recorded.json()["attendance"]
    } == {
        (str(world.partner.pk), "attended", 3),
        (str(world.other_partner.pk), "late", 1),
    }

    edited = therapist.patch(
        f"{SESSIONS}{session_id}/",
        {"duration_minutes": 80, "therapist_notes": "Calmer than last week."},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["duration_minutes"] == 80
    assert edited.json()["therapist_notes"] == "Calmer than last week."

    assert therapist.delete(f"{SESSIONS}{session_id}/").status_code == 204
    assert not TherapySession.objects.filter(pk=session_id).exists()
    assert not Attendance.objects.filter(session_id=session_id).exists()
    assert therapist.get(f"{SESSIONS}{session_id}/").status_code == 404


def test_a_therapist_logs_a_past_individual_session_for_one_partner(
    world: World, client_for: ClientFor
) -> None:
    response = client_for(world.therapist).post(
        SESSIONS,
        {
            "couple": str(world.couple.pk),
            "kind": "individual",
            "focus_partner": str(world.other_partner.pk),
            "starts_at": "2026-01-05T09:00:00+01:00",
            "duration_minutes": 45,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["focus_partner"] == str(world.other_partner.pk)
    assert response.json()["starts_at"] == "2026-01-05T08:00:00.000Z"


def test_an_individual_session_needs_a_focus_partner(world: World, client_for: ClientFor) -> None:
    response = _create(client_for(world.therapist), world.couple, kind="individual")
    assert_refused(response, [("focus_partner", "required")], TherapySession)


@pytest.mark.parametrize("who", ["outsider", "therapist", "stranger"])
def test_a_focus_partner_must_be_an_active_partner_of_the_couple(
    world: World, client_for: ClientFor, who: str
) -> None:
    focus = UserFactory.create() if who == "stranger" else world.actor(who)
    assert focus is not None
    response = _create(
        client_for(world.therapist), world.couple, kind="individual", focus_partner=str(focus.pk)
    )
    assert_refused(response, [("focus_partner", "does_not_exist")], TherapySession)


def test_a_joint_session_has_no_focus_partner(world: World, client_for: ClientFor) -> None:
    response = _create(
        client_for(world.therapist), world.couple, focus_partner=str(world.partner.pk)
    )
    assert response.status_code == 400
    assert errors(response) == [("focus_partner", "invalid")]


def test_a_couple_the_caller_cannot_see_is_refused_as_if_it_did_not_exist(
    world: World, client_for: ClientFor
) -> None:
    response = _create(client_for(world.other_therapist), world.couple)
    assert_refused(response, [("couple", "does_not_exist")], TherapySession)


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "individual"), ("focus_partner", "PARTNER"), ("couple", "OTHER_COUPLE")],
)
def test_kind_focus_partner_and_couple_cannot_change(
    world: World, client_for: ClientFor, field: str, value: str
) -> None:
    session = _joint(world)
    if value == "PARTNER":
        value = str(world.partner.pk)
    elif value == "OTHER_COUPLE":
        value = str(world.other_couple.pk)
    before = session.updated_at
    response = client_for(world.therapist).patch(
        _detail(session), {field: value, "duration_minutes": 90}, format="json"
    )
    assert response.status_code == 400
    assert errors(response) == [(field, "immutable")]
    session.refresh_from_db()
    assert (session.kind, session.focus_partner_id, session.duration_minutes) == ("joint", None, 50)
    assert session.updated_at == before


def test_sending_back_an_unchanged_kind_and_focus_partner_is_accepted(
    world: World, client_for: ClientFor
) -> None:
    session = _individual(world, world.partner)
    response = client_for(world.therapist).patch(
        _detail(session),
        {"kind": "individual", "focus_partner": str(world.partner.pk), "duration_minutes": 60},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["duration_minutes"] == 60


def test_a_session_is_completed_only_by_recording_attendance(
    world: World, client_for: ClientFor
) -> None:
    session = _joint(world)
    therapist = client_for(world.therapist)
    refused = therapist.patch(_detail(session), {"status": "completed"}, format="json")
    assert refused.status_code == 400
    assert errors(refused) == [("status", "invalid")]
    cancelled = therapist.patch(_detail(session), {"status": "cancelled"}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_partners_of_a_couple_with_a_therapist_cannot_schedule_or_edit_sessions(
    world: World, client_for: ClientFor
) -> None:
    _joint(world)
    _assert_writes_refused(client_for(world.partner), world, 403)


# --- a couple with no therapist ----------------------------------------------------------------


def test_partners_without_a_therapist_run_their_joint_sessions_and_their_own_attendance(
    client_for: ClientFor,
) -> None:
    couple, ana, ben, _ = make_couple(therapist=False)
    client = client_for(ana)
    created = _create(client, couple)
    assert created.status_code == 201, created.json()
    session_id = created.json()["id"]
    assert "therapist_notes" not in created.json()

    moved = client.patch(f"{SESSIONS}{session_id}/", {"duration_minutes": 30}, format="json")
    assert moved.status_code == 200

    own = _record(client, session_id, {"partner": str(ana.pk), "status": "attended"})
    assert own.status_code == 200, own.json()
    assert own.json()["status"] == "completed"
    assert own.json()["attendance"] == [
        {"partner": str(ana.pk), "status": "attended", "participation": None}
    ]
    # Ben's entry is Ben's to record.
    bens = client_for(ben).put(
        f"{SESSIONS}{session_id}/attendance/",
        [{"partner": str(ben.pk), "status": "excused", "participation": None}],
        format="json",
    )
    assert bens.status_code == 200
    # Both statuses of a joint session are both partners' to read (SPEC v1.1 section 1).
    assert sorted(bens.json()["attendance"], key=lambda entry: entry["status"]) == [
        {"partner": str(ana.pk), "status": "attended", "participation": None},
        {"partner": str(ben.pk), "status": "excused", "participation": None},
    ]
    assert Attendance.objects.filter(session_id=session_id).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"kind": "individual", "focus_partner": "SELF"}, id="an-individual-session"),
        pytest.param({"kind": "joint", "therapist_notes": "mine"}, id="therapist-notes"),
    ],
)
def test_partners_without_a_therapist_never_create_individual_sessions_or_notes(
    client_for: ClientFor, body: dict[str, str]
) -> None:
    couple, ana, _, _ = make_couple(therapist=False)
    payload = {"couple": str(couple.pk), "starts_at": _past(), **body}
    if payload.get("focus_partner") == "SELF":
        payload["focus_partner"] = str(ana.pk)
    response = client_for(ana).post(SESSIONS, payload, format="json")
    assert response.status_code == 403
    assert TherapySession.objects.count() == 0


def test_partners_without_a_therapist_never_rate_participation_or_record_each_other(
    client_for: ClientFor,
) -> None:
    couple, ana, ben, _ = make_couple(therapist=False)
    session: TherapySession = TherapySessionFactory.create(
        couple=couple, starts_at=timezone.now() - timedelta(hours=1)
    )
    client = client_for(ana)
    rated = _record(
        client, session, {"partner": str(ana.pk), "status": "attended", "participation": 3}
    )
    assert rated.status_code == 403
    for_ben = _record(client, session, {"partner": str(ben.pk), "status": "absent"})
    assert for_ben.status_code == 403
    both = _record(
        client,
        session,
        {"partner": str(ana.pk), "status": "attended"},
        {"partner": str(ben.pk), "status": "absent"},
    )
    assert both.status_code == 403
    assert not Attendance.objects.exists()
    session.refresh_from_db()
    assert session.status == "scheduled"


def test_partners_without_a_therapist_cannot_edit_an_individual_session_left_by_a_former_one(
    client_for: ClientFor,
) -> None:
    couple, ana, _, _ = make_couple(therapist=False)
    session: TherapySession = TherapySessionFactory.create(
        couple=couple, kind="individual", focus_partner=ana
    )
    response = client_for(ana).patch(_detail(session), {"duration_minutes": 20}, format="json")
    assert response.status_code == 403


# --- attendance --------------------------------------------------------------------------------


def test_attendance_errors_name_the_entry_and_field(world: World, client_for: ClientFor) -> None:
    session = _joint(world)
    response = _record(
        client_for(world.therapist),
        session,
        {"partner": str(world.partner.pk), "status": "attended", "participation": 2},
        {"partner": str(world.other_partner.pk), "status": "attended", "participation": 4},
    )
    assert response.status_code == 400
    assert errors(response) == [("attendance.1.participation", "max_value")]
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param(
            [("partner", "attended", None)], [("attendance", "missing_partners")], id="one-missing"
        ),
        pytest.param(
            [("partner", "attended", None), ("partner", "late", None)],
            [("attendance.1.partner", "duplicate")],
            id="duplicate",
        ),
        pytest.param(
            [("partner", "attended", None), ("outsider", "attended", None)],
            [("attendance.1.partner", "does_not_exist")],
            id="not-a-partner-of-the-couple",
        ),
        pytest.param(
            [("partner", "attended", None), ("therapist", "attended", None)],
            [("attendance.1.partner", "does_not_exist")],
            id="the-therapist",
        ),
        pytest.param(
            [("partner", "absent", 2), ("other_partner", "attended", None)],
            [("attendance.0.participation", "invalid")],
            id="rating-an-absence",
        ),
        pytest.param(
            [("partner", "sleeping", None), ("other_partner", "attended", None)],
            [("attendance.0.status", "invalid_choice")],
            id="unknown-status",
        ),
        pytest.param([], [("attendance", "empty")], id="empty"),
        pytest.param(
            [("partner", "attended", None)] * 3, [("attendance", "max_length")], id="too-many"
        ),
    ],
)
def test_attendance_needs_exactly_one_valid_entry_per_expected_partner(
    world: World,
    client_for: ClientFor,
    entries: list[tuple[str, str, int | None]],
    expected: list[tuple[str, str]],
) -> None:
    session = _joint(world)
    body = {
        "attendance": [
            {"partner": str(getattr(world, who).pk), "status": status, "participation": rating}
            for who, status, rating in entries
        ]
    }
    response = client_for(world.therapist).put(_attendance(session), body, format="json")
    assert response.status_code == 400, response.json()
    assert errors(response) == expected
    assert not Attendance.objects.exists()
    session.refresh_from_db()
    assert session.status == "scheduled"


def test_an_individual_session_expects_only_its_focus_partner(
    world: World, client_for: ClientFor
) -> None:
    session = _individual(world, world.other_partner)
    therapist = client_for(world.therapist)
    both = _record(
        therapist,
        session,
        {"partner": str(world.other_partner.pk), "status": "attended"},
        {"partner": str(world.partner.pk), "status": "attended"},
    )
    assert both.status_code == 400
    assert errors(both) == [("attendance.1.partner", "does_not_exist")]
    alone = _record(
        therapist,
        session,
        {"partner": str(world.other_partner.pk), "status": "late", "participation": 1},
    )
    assert alone.status_code == 200
    assert alone.json()["status"] == "completed"


def test_attendance_cannot_be_recorded_before_the_session_starts(
    world: World, client_for: ClientFor
) -> None:
    session = _joint(world, starts_at=timezone.now() + timedelta(days=1))
    response = _record(
        client_for(world.therapist),
        session,
        {"partner": str(world.partner.pk), "status": "attended"},
        {"partner": str(world.other_partner.pk), "status": "attended"},
    )
    assert response.status_code == 400
    assert errors(response) == [("attendance", "session_not_started")]


def test_recording_attendance_again_replaces_it_and_an_identical_retry_changes_nothing(
    world: World, client_for: ClientFor
) -> None:
    session = _joint(world)
    therapist = client_for(world.therapist)
    body = {
        "attendance": [
            {"partner": str(world.partner.pk), "status": "attended", "participation": 2},
            {"partner": str(world.other_partner.pk), "status": "absent", "participation": None},
        ]
    }
    first = therapist.put(_attendance(session), body, format="json")
    retry = therapist.put(_attendance(session), body, format="json")
    assert first.status_code == retry.status_code == 200
    assert first.json() == retry.json()
    body["attendance"][1] = {
        "partner": str(world.other_partner.pk),
        "status": "excused",
        "participation": None,
    }
    changed = therapist.put(_attendance(session), body, format="json")
    assert changed.status_code == 200
    assert Attendance.objects.filter(session=session).count() == 2
    assert Attendance.objects.get(session=session, partner=world.other_partner).status == "excused"
    assert changed.json()["updated_at"] >= first.json()["updated_at"]


# --- what each viewer reads --------------------------------------------------------------------


def _recorded_session_with_secrets(world: World) -> TherapySession:
    session = _joint(world, therapist_notes="NOTE-d41d8cd98f", status="completed")
    AttendanceFactory.create(session=session, partner=world.partner, participation=1)
    AttendanceFactory.create(
        session=session, partner=world.other_partner, status="late", participation=3
    )
    return session


@pytest.mark.parametrize("viewer", ["partner", "other_partner"])
def test_a_partner_reads_both_attendance_statuses_but_never_notes_nor_a_rating(
    world: World, client_for: ClientFor, viewer: str
) -> None:
    session = _recorded_session_with_secrets(world)
    me = world.actor(viewer)
    assert me is not None
    client = client_for(me)
    for response in (client.get(SESSIONS), client.get(_detail(session))):
        assert response.status_code == 200
        text = response.content.decode()
        assert "NOTE-d41d8cd98f" not in text
        assert "therapist_notes" not in text
    detail = client.get(_detail(session)).json()
    # SPEC v1.1 section 1: both statuses; never a participation rating, not even their own.
    assert sorted(detail["attendance"], key=lambda entry: entry["status"]) == [
        {"partner": str(world.partner.pk), "status": "attended", "participation": None},
        {"partner": str(world.other_partner.pk), "status": "late", "participation": None},
    ]


def test_a_therapist_reads_notes_and_every_rating(world: World, client_for: ClientFor) -> None:
    session = _recorded_session_with_secrets(world)
    body = client_for(world.therapist).get(_detail(session)).json()
    assert body["therapist_notes"] == "NOTE-d41d8cd98f"
    assert {(a["partner"], a["participation"]) for a in body["attendance"]} == {
        (str(world.partner.pk), 1),
        (str(world.other_partner.pk), 3),
    }


def test_an_individual_session_is_seen_only_by_its_focus_partner_and_the_therapist(
    world: World, client_for: ClientFor
) -> None:
    session = _individual(world, world.partner)
    for name, status in [
        ("partner", 200),
        ("therapist", 200),
        ("other_partner", 404),
        ("outsider", 404),
        ("other_therapist", 404),
    ]:
        client = client_for(world.actor(name))
        assert client.get(_detail(session)).status_code == status, name
        listed = [s["id"] for s in client.get(SESSIONS).json()["results"]]
        assert (str(session.pk) in listed) == (status == 200), name


def test_a_partner_who_left_no_longer_sees_the_couples_sessions(
    world: World, client_for: ClientFor
) -> None:
    session = _joint(world)
    world.couple.memberships.filter(user=world.other_partner).update(
        left_at=timezone.now(), partner_slot=None
    )
    client = client_for(world.other_partner)
    assert client.get(_detail(session)).status_code == 404
    assert client.get(SESSIONS).json()["results"] == []


# --- deletion and removals ---------------------------------------------------------------------


def test_deleting_a_joint_session_tells_every_member_who_could_see_it(
    world: World, client_for: ClientFor
) -> None:
    session = _joint(world)
    assert client_for(world.therapist).delete(_detail(session)).status_code == 204
    rows = set(Removal.objects.values_list("user_id", "type", "object_id"))
    assert rows == {
        (user.pk, "session", session.pk)
        for user in (world.partner, world.other_partner, world.therapist)
    }


def test_deleting_an_individual_session_tells_only_its_focus_partner_and_the_therapist(
    world: World, client_for: ClientFor
) -> None:
    session = _individual(world, world.other_partner)
    assert client_for(world.therapist).delete(_detail(session)).status_code == 204
    assert set(Removal.objects.values_list("user_id", flat=True)) == {
        world.other_partner.pk,
        world.therapist.pk,
    }


# --- lists, filters, sync ----------------------------------------------------------------------


def test_sessions_are_listed_newest_first(world: World, client_for: ClientFor) -> None:
    now = timezone.now()
    old, new, middle = (_joint(world, starts_at=now - timedelta(days=d)) for d in (30, 1, 7))
    listed = [s["id"] for s in client_for(world.therapist).get(SESSIONS).json()["results"]]
    assert listed == [str(new.pk), str(middle.pk), str(old.pk)]


def test_session_filters_are_inclusive_and_combine(world: World, client_for: ClientFor) -> None:
    at = timezone.now().replace(microsecond=0) - timedelta(days=3)
    edge = _joint(world, starts_at=at)
    later = _joint(world, starts_at=at + timedelta(days=1), status="cancelled")
    _joint(world, starts_at=at - timedelta(seconds=1))
    TherapySessionFactory.create(couple=world.other_couple, starts_at=at)
    client = client_for(world.therapist)
    iso = at.isoformat().replace("+00:00", "Z")
    end = (at + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    found = client.get(SESSIONS, {"starts_after": iso, "starts_before": end}).json()["results"]
    assert {s["id"] for s in found} == {str(edge.pk), str(later.pk)}
    cancelled = client.get(SESSIONS, {"status": "cancelled"}).json()["results"]
    assert [s["id"] for s in cancelled] == [str(later.pk)]
    mine = client.get(SESSIONS, {"couple": str(world.couple.pk)}).json()["results"]
    assert len(mine) == 3


def test_filtering_by_a_couple_the_caller_cannot_see_gives_an_empty_list(
    world: World, client_for: ClientFor
) -> None:
    TherapySessionFactory.create(couple=world.other_couple)
    response = client_for(world.therapist).get(SESSIONS, {"couple": str(world.other_couple.pk)})
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("param", "value", "code"),
    [
        ("starts_after", "2026-11-23T10:00:00", "naive"),
        ("starts_before", "2026-11-23", "naive"),
        ("updated_since", "yesterday", "invalid"),
        ("couple", "not-a-uuid", "invalid"),
        ("status", "postponed", "invalid_choice"),
    ],
)
def test_a_bad_session_filter_answers_400_naming_it(
    world: World, client_for: ClientFor, param: str, value: str, code: str
) -> None:
    response = client_for(world.therapist).get(SESSIONS, {param: value})
    assert response.status_code == 400
    assert errors(response) == [(param, code)]


def test_updated_since_lists_changes_oldest_first_for_sync(
    world: World, client_for: ClientFor
) -> None:
    first, second = _joint(world), _joint(world)
    client = client_for(world.therapist)
    since = timezone.now() - timedelta(minutes=1)
    client.patch(_detail(first), {"duration_minutes": 60}, format="json")
    response = client.get(SESSIONS, {"updated_since": since.isoformat().replace("+00:00", "Z")})
    assert [s["id"] for s in response.json()["results"]] == [str(second.pk), str(first.pk)]


def test_updated_since_with_an_unencoded_plus_is_read_as_meant(
    world: World, client_for: ClientFor
) -> None:
    _joint(world)
    response = client_for(world.therapist).get(
        f"{SESSIONS}?updated_since=2000-01-01T00:00:00+00:00"
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


# --- mobile conveniences -----------------------------------------------------------------------


def test_reading_a_session_again_with_its_etag_answers_304(
    world: World, client_for: ClientFor
) -> None:
    session = _joint(world)
    client = client_for(world.partner)
    first = client.get(_detail(session))
    etag = first["ETag"]
    again = client.get(_detail(session), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    # The therapist reads another representation, so another tag.
    assert client_for(world.therapist).get(_detail(session))["ETag"] != etag


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/",
        "/api/v1/commitments/",
        "/api/v1/checkins/",
        "/api/v1/couples/",
        "/api/v1/removals/",
    ],
)
def test_a_list_read_again_with_its_etag_weak_or_strong_answers_304(
    world: World, client_for: ClientFor, path: str
) -> None:
    _joint(world)
    client = client_for(world.partner)
    etag = client.get(path)["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_a_therapists_note_moves_the_therapists_session_tag_and_never_the_partners(
    world: World, client_for: ClientFor
) -> None:
    session = _joint(world)
    partner_tag = client_for(world.partner).get(_detail(session))["ETag"]
    therapist_tag = client_for(world.therapist).get(_detail(session))["ETag"]
    response = client_for(world.therapist).patch(
        _detail(session), {"therapist_notes": "New note"}, format="json"
    )
    assert response.status_code == 200
    assert client_for(world.partner).get(_detail(session))["ETag"] == partner_tag
    assert client_for(world.therapist).get(_detail(session))["ETag"] != therapist_tag
    session.refresh_from_db()
    assert session.partner_updated_at < session.updated_at


def test_an_idempotency_key_replays_a_session_create_and_refuses_another_body(
    world: World, client_for: ClientFor
) -> None:
    body = {"couple": str(world.couple.pk), "kind": "joint", "starts_at": _past()}
    assert_idempotent_create(
        client_for(world.therapist),
        SESSIONS,
        body,
        {**body, "duration_minutes": 60},
        key="k-1",
        model=TherapySession,
        rows=1,
    )


def test_an_ended_couple_is_read_only(world: World, client_for: ClientFor) -> None:
    session = _joint(world)
    Couple.objects.filter(pk=world.couple.pk).update(status="ended")
    client = client_for(world.therapist)
    assert client.get(_detail(session)).status_code == 200
    _assert_writes_refused(client, world, 409)


def test_a_later_partner_cannot_place_a_joint_session_before_their_time_in_the_couple(
    client_for: ClientFor,
) -> None:
    """Without a therapist, partners run sessions; a newcomer's session dated before they came
    would be nobody's to answer for (SPEC section 1, membership periods): 400, nothing written."""
    now = timezone.now()
    couple, _, leaver, _ = make_couple(therapist=False, joined_at=now - timedelta(days=10))
    couple.memberships.filter(user=leaver).update(
        left_at=now - timedelta(days=2), partner_slot=None
    )
    newcomer = UserFactory.create()
    couple.memberships.create(
        user=newcomer, role="partner", partner_slot=2, joined_at=now - timedelta(days=1)
    )
    client = client_for(newcomer)
    early = (now - timedelta(days=3)).isoformat()
    response = _create(client, couple, starts_at=early)
    assert response.status_code == 400
    assert errors(response) == [("starts_at", "out_of_reach")]
    assert not TherapySession.objects.exists()
    created = _create(client, couple)
    assert created.status_code == 201
    moved = client.patch(f"{SESSIONS}{created.json()['id']}/", {"starts_at": early}, format="json")
    assert moved.status_code == 400
    assert TherapySession.objects.get().starts_at > now - timedelta(days=1)
    assert not Removal.objects.exists()
