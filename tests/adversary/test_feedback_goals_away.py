"""Attacks on session feedback, goals and away periods, as the other partner would try them
(SPEC v1.1 sections 1 and 2), and writes that leave nothing half-done."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import Goal
from engagement.models import Removal
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from engagement.services import away as away_service
from engagement.services import feedback as feedback_service
from engagement.services import goals as goal_service
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import TherapySessionFactory

API = "/api/v1"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
FEEDBACK = {"understood": 1, "helpful": 1, "spoke_freely": 0, "coming_back": 2}


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _away_body(world: World, first: int, last: int, visibility: str) -> dict[str, Any]:
    return {
        "couple": str(world.couple.pk),
        "starts_on": str(TODAY + dt.timedelta(days=first)),
        "ends_on": str(TODAY + dt.timedelta(days=last)),
        "visibility": visibility,
    }


def _joint(world: World) -> TherapySession:
    session: TherapySession = TherapySessionFactory.create(couple=world.couple, starts_at=NOW)
    for partner in (world.partner, world.other_partner):
        Attendance.objects.create(session=session, partner=partner, status="attended")
    return session


@pytest.mark.django_db
def test_b_cannot_reach_as_feedback_by_any_door(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    session = _joint(world)
    a, b = client_for(world.partner), client_for(world.other_partner)
    url = f"{API}/sessions/{session.pk}/feedback/"
    assert a.put(url, {**FEEDBACK, "comment": "afraid to speak"}, format="json").status_code == 201
    for probe in (url, f"{url}?partner={world.partner.pk}", f"{url}?all=1"):
        assert b.get(probe).status_code == 404
    # B's PUT writes B's own, never A's, whatever the body claims.
    b.put(url, {**FEEDBACK, "partner": str(world.partner.pk)}, format="json")
    mine = SessionFeedback.objects.get(session=session, partner=world.partner)
    assert mine.comment == "afraid to speak"
    assert b.get(url).json()["partner"] == str(world.other_partner.pk)
    # Nothing in B's export or removals names A's feedback.
    export = b.get(f"{API}/me/export/").json()
    assert [row["session"] for row in export["session_feedback"]] == [str(session.pk)]
    assert all(row["comment"] != "afraid to speak" for row in export["session_feedback"])
    assert b.get(f"{API}/removals/").json()["results"] == []


@pytest.mark.django_db
def test_b_cannot_overwrite_or_read_as_goal(world: World, client_for: ClientFor) -> None:
    a, b = client_for(world.partner), client_for(world.other_partner)
    url = f"{API}/couples/{world.couple.pk}/goal/"
    a.put(url, {"goal": "separate_well", "note": "I have decided"}, format="json")
    b.put(url, {"goal": "work_on_it", "partner": str(world.partner.pk)}, format="json")
    assert a.get(url).json()["goal"] == "separate_well"
    assert b.get(url).json()["goal"] == "work_on_it"
    assert b.get(f"{API}/couples/{world.couple.pk}/goals/").status_code == 403
    assert [g["goal"] for g in b.get(f"{API}/me/export/").json()["goals"]] == ["work_on_it"]


@pytest.mark.django_db
def test_as_therapist_only_away_period_leaks_nowhere_b_looks(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    a, b = client_for(world.partner), client_for(world.other_partner)
    hidden = a.post(f"{API}/away/", _away_body(world, 0, 5, "therapist"), format="json").json()
    for params in (
        {},
        {"partner": str(world.partner.pk)},
        {"couple": str(world.couple.pk)},
        {"updated_since": "2000-01-01T00:00:00Z"},
    ):
        assert b.get(f"{API}/away/", params).json()["results"] == []
    assert b.get(f"{API}/away/{hidden['id']}/").status_code == 404
    # B probing A's calendar through the overlap rule learns nothing: it is per author.
    assert (
        b.post(f"{API}/away/", _away_body(world, 0, 5, "couple"), format="json").status_code == 201
    )
    # Moving and deleting it tells B nothing either: no removal for what B never read.
    a.patch(
        f"{API}/away/{hidden['id']}/", {"ends_on": str(TODAY + dt.timedelta(days=2))}, format="json"
    )
    assert a.delete(f"{API}/away/{hidden['id']}/").status_code == 204
    assert b.get(f"{API}/removals/").json()["results"] == []
    assert (
        b.patch(f"{API}/away/{hidden['id']}/", {"reason": "other"}, format="json").status_code
        == 404
    )


# --- nothing half-written --------------------------------------------------------------------


class Boom(Exception):
    pass


def _explode(**kwargs: Any) -> int:
    raise Boom


@pytest.mark.django_db
def test_a_failed_away_write_leaves_nothing_behind(
    world: World, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = client_for(world.partner)
    shared = a.post(f"{API}/away/", _away_body(world, 0, 1, "couple"), format="json").json()
    monkeypatch.setattr(away_service, "mark_stale", _explode)
    a.raise_request_exception = True
    with pytest.raises(Boom):
        a.post(f"{API}/away/", _away_body(world, 3, 4, "couple"), format="json")
    with pytest.raises(Boom):
        a.patch(f"{API}/away/{shared['id']}/", {"visibility": "therapist"}, format="json")
    with pytest.raises(Boom):
        a.delete(f"{API}/away/{shared['id']}/")
    assert list(AwayPeriod.objects.values_list("visibility", flat=True)) == ["couple"]
    assert not Removal.objects.exists()


@pytest.mark.django_db
def test_a_failed_feedback_or_goal_write_leaves_nothing_behind(
    world: World, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _joint(world)
    monkeypatch.setattr(feedback_service, "mark_stale", _explode)
    monkeypatch.setattr(goal_service, "mark_stale_for_goal", _explode)
    a = client_for(world.partner)
    a.raise_request_exception = True
    with pytest.raises(Boom):
        a.put(f"{API}/sessions/{session.pk}/feedback/", FEEDBACK, format="json")
    with pytest.raises(Boom):
        a.put(f"{API}/couples/{world.couple.pk}/goal/", {"goal": "decide"}, format="json")
    assert not SessionFeedback.objects.exists()
    assert not Goal.objects.exists()
    assert not WeeklyReport.objects.filter(stale=True).exists()


# --- races (PostgreSQL) -----------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_overlapping_periods_recorded_at_the_same_moment_make_one(
    world: World, client_for: ClientFor
) -> None:
    tries = 4
    clients = [client_for(world.partner) for _ in range(tries)]
    start = threading.Barrier(tries)
    body = _away_body(world, 0, 3, "couple")

    def record(client: APIClient, shift: int) -> int:
        try:
            start.wait(timeout=10)
            moved = {**body, "starts_on": str(TODAY + dt.timedelta(days=shift))}
            return int(client.post(f"{API}/away/", moved, format="json").status_code)
        finally:
            connection.close()  # each thread had its own connection

    with ThreadPoolExecutor(max_workers=tries) as pool:
        answers = list(pool.map(record, clients, range(tries)))
    assert sorted(answers) == [201] + [400] * (tries - 1)
    assert AwayPeriod.objects.filter(partner=world.partner).count() == 1
