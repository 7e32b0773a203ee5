"""Session feedback through the API: who gives it, when, what it refuses, who reads it, and that
the other partner learns nothing of it (SPEC section 2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from engagement.models import Attendance
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from tests.conftest import ClientFor
from tests.conftest import World
from tests.engagement.dates import NOW
from tests.engagement.reports.test_reports_api import stored_report
from tests.errors import errors
from tests.factories import TherapySessionFactory

# The clock stands still at NOW, a Wednesday (tests/engagement/conftest.py), in every test here.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

BODY = {"understood": 7, "helpful": 6, "spoke_freely": 4, "coming_back": 8, "comment": "Hard."}


def _url(session: TherapySession) -> str:
    return f"/api/v1/sessions/{session.pk}/feedback/"


def _session(
    world: World,
    *,
    started: dt.timedelta = dt.timedelta(hours=2),
    recorded: dt.timedelta | None = None,
    statuses: tuple[str, str] = ("attended", "late"),
) -> TherapySession:
    """A joint session that started `started` ago, attendance recorded `recorded` ago."""
    session: TherapySession = TherapySessionFactory.create(
        couple=world.couple, starts_at=NOW - started, status="completed"
    )
    for partner, status in zip((world.partner, world.other_partner), statuses, strict=True):
        Attendance.objects.create(
            session=session,
            partner=partner,
            status=status,
            recorded_at=NOW - (recorded if recorded is not None else started),
        )
    return session


def test_a_partner_who_attended_gives_and_replaces_their_feedback(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    session = _session(world)
    partner = client_for(world.partner)
    created = partner.put(_url(session), BODY, format="json")
    assert created.status_code == 201, created.content
    assert created.json() == {
        "partner": str(world.partner.pk),
        **BODY,
        "submitted_at": "2026-11-25T12:00:00.000Z",
        "updated_at": "2026-11-25T12:00:00.000Z",
    }
    clock.shift(dt.timedelta(minutes=5))
    replaced = partner.put(_url(session), {**BODY, "helpful": 9}, format="json")
    assert replaced.status_code == 200
    assert replaced.json()["helpful"] == 9
    assert replaced.json()["submitted_at"] == "2026-11-25T12:00:00.000Z"
    assert replaced.json()["updated_at"] == "2026-11-25T12:05:00.000Z"
    clock.shift(dt.timedelta(minutes=5))
    # The same body again changes nothing, not even updated_at.
    again = partner.put(_url(session), {**BODY, "helpful": 9}, format="json")
    assert (again.status_code, again.json()) == (200, replaced.json())
    assert SessionFeedback.objects.count() == 1
    own = partner.get(_url(session))
    assert own.json() == replaced.json()
    assert partner.get(_url(session), HTTP_IF_NONE_MATCH=own["ETag"]).status_code == 304


def test_a_late_partner_gives_feedback_too(world: World, client_for: ClientFor) -> None:
    session = _session(world)
    response = client_for(world.other_partner).put(_url(session), BODY, format="json")
    assert response.status_code == 201


def test_therapists_read_every_partners_feedback(world: World, client_for: ClientFor) -> None:
    session = _session(world)
    therapist = client_for(world.therapist)
    assert therapist.get(_url(session)).json() == []  # nobody gave any yet
    client_for(world.partner).put(_url(session), BODY, format="json")
    assert [row["partner"] for row in therapist.get(_url(session)).json()] == [
        str(world.partner.pk)
    ]
    client_for(world.other_partner).put(_url(session), {**BODY, "comment": ""}, format="json")
    rows = therapist.get(_url(session)).json()
    assert sorted(row["partner"] for row in rows) == sorted(
        [str(world.partner.pk), str(world.other_partner.pk)]
    )
    assert {row["comment"] for row in rows} == {"Hard.", ""}
    assert client_for(world.other_therapist).get(_url(session)).status_code == 404
    assert therapist.put(_url(session), BODY, format="json").status_code == 403


def test_the_other_partner_learns_nothing_not_even_whether_it_exists(
    world: World, client_for: ClientFor
) -> None:
    session = _session(world)
    other = client_for(world.other_partner)
    detail = f"/api/v1/sessions/{session.pk}/"
    before = [other.get(url) for url in (_url(session), detail, "/api/v1/sessions/")]
    client_for(world.partner).put(_url(session), BODY, format="json")
    after = [other.get(url) for url in (_url(session), detail, "/api/v1/sessions/")]
    assert before[0].status_code == after[0].status_code == 404
    assert before[0].content == after[0].content
    for earlier, later in zip(before[1:], after[1:], strict=True):
        assert (earlier.status_code, earlier["ETag"], earlier.content) == (
            later.status_code,
            later["ETag"],
            later.content,
        )
    # Nor is it embedded in the session its author reads.
    assert "feedback" not in client_for(world.partner).get(detail).json()


@pytest.mark.parametrize("status", ["absent", "excused"])
def test_a_partner_who_did_not_attend_gives_none(
    world: World, client_for: ClientFor, status: str
) -> None:
    session = _session(world, statuses=(status, "attended"))
    response = client_for(world.partner).put(_url(session), BODY, format="json")
    assert (response.status_code, errors(response)) == (409, [(None, "not_attended")])
    assert not SessionFeedback.objects.exists()


def test_a_session_with_no_attendance_recorded_takes_none(
    world: World, client_for: ClientFor
) -> None:
    session = TherapySessionFactory.create(couple=world.couple, starts_at=NOW)
    response = client_for(world.partner).put(_url(session), BODY, format="json")
    assert (response.status_code, errors(response)) == (409, [(None, "not_attended")])


def test_the_window_runs_from_the_later_of_start_and_recording(
    world: World, client_for: ClientFor, settings: Any
) -> None:
    partner = client_for(world.partner)
    # Started 7 days and 1 minute ago, recorded then: closed.
    late = _session(world, started=dt.timedelta(days=7, minutes=1))
    response = partner.put(_url(late), BODY, format="json")
    assert (response.status_code, errors(response)) == (409, [(None, "feedback_window_closed")])
    # Started 20 days ago but its attendance recorded 2 days ago (logged after the fact): open.
    logged = _session(world, started=dt.timedelta(days=20), recorded=dt.timedelta(days=2))
    assert partner.put(_url(logged), BODY, format="json").status_code == 201
    # Exactly 7 days: still open. A longer window by setting.
    edge = _session(world, started=dt.timedelta(days=7))
    assert partner.put(_url(edge), BODY, format="json").status_code == 201
    settings.FEEDBACK_WINDOW_DAYS = 8
    assert partner.put(_url(late), BODY, format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"understood": 11}, ("understood", "max_value")),
        ({"helpful": -1}, ("helpful", "min_value")),
        ({"spoke_freely": None}, ("spoke_freely", "null")),
        ({"comment": "x" * 1001}, ("comment", "max_length")),
        ({"comment": 5}, ("comment", "not_a_string")),
    ],
)
def test_bad_feedback_is_refused_naming_the_field_and_nothing_is_written(
    world: World, client_for: ClientFor, change: dict[str, Any], error: tuple[str, str]
) -> None:
    session = _session(world)
    response = client_for(world.partner).put(_url(session), {**BODY, **change}, format="json")
    assert response.status_code == 400
    assert error in errors(response)
    assert not SessionFeedback.objects.exists()


def test_a_missing_item_is_named(world: World, client_for: ClientFor) -> None:
    session = _session(world)
    body = {k: v for k, v in BODY.items() if k != "coming_back"}
    response = client_for(world.partner).put(_url(session), body, format="json")
    assert (response.status_code, errors(response)) == (400, [("coming_back", "required")])


def test_the_other_partners_individual_session_is_not_found(
    world: World, client_for: ClientFor
) -> None:
    session = TherapySessionFactory.create(
        couple=world.couple, kind="individual", focus_partner=world.other_partner, starts_at=NOW
    )
    Attendance.objects.create(session=session, partner=world.other_partner, status="attended")
    partner = client_for(world.partner)
    assert partner.get(_url(session)).status_code == 404
    assert partner.put(_url(session), BODY, format="json").status_code == 404
    assert (
        client_for(world.other_partner).put(_url(session), BODY, format="json").status_code == 201
    )


def test_feedback_makes_its_weeks_report_stale(world: World, client_for: ClientFor) -> None:
    monday = dt.date(2026, 11, 16)
    session = _session(world, started=dt.timedelta(days=6))  # Thursday 19 November
    report = stored_report(world.couple, world.partner, world.other_partner, week=monday)
    WeeklyReport.objects.filter(pk=report.pk).update(stale=False)
    client_for(world.partner).put(_url(session), BODY, format="json")
    report.refresh_from_db()
    assert report.stale
    WeeklyReport.objects.filter(pk=report.pk).update(stale=False)
    client_for(world.partner).put(_url(session), {**BODY, "comment": "edited"}, format="json")
    report.refresh_from_db()
    assert report.stale
