"""Goals through the API: a partner's own goal, its history for the therapists, what it refuses,
and that the other partner learns nothing of it (SPEC section 2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from engagement.models import Goal
from engagement.models import Membership
from engagement.models import WeeklyReport
from tests.conftest import ClientFor
from tests.conftest import World
from tests.engagement.reports.test_reports_api import stored_report
from tests.errors import errors

# The clock stands still at NOW, a Wednesday (tests/engagement/conftest.py), in every test here.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def _goal(world: World) -> str:
    return f"/api/v1/couples/{world.couple.pk}/goal/"


def _goals(world: World) -> str:
    return f"/api/v1/couples/{world.couple.pk}/goals/"


def test_a_partner_sets_and_changes_their_goal_and_therapists_read_the_history(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    partner = client_for(world.partner)
    assert partner.get(_goal(world)).status_code == 404  # none yet
    first = partner.put(_goal(world), {"goal": "unsure", "note": "Asked to come."}, format="json")
    assert first.status_code == 201
    assert first.json() == {
        "goal": "unsure",
        "note": "Asked to come.",
        "updated_at": "2026-11-25T12:00:00.000Z",
    }
    clock.shift(dt.timedelta(days=1))
    partner = client_for(world.partner)
    second = partner.put(_goal(world), {"goal": "work_on_it"}, format="json")
    assert second.status_code == 200
    assert second.json() == {
        "goal": "work_on_it",
        "note": "",
        "updated_at": "2026-11-26T12:00:00.000Z",
    }
    # The same body again appends nothing.
    assert partner.put(_goal(world), {"goal": "work_on_it"}, format="json").json() == second.json()
    assert Goal.objects.count() == 2
    own = partner.get(_goal(world))
    assert own.json() == second.json()
    assert partner.get(_goal(world), HTTP_IF_NONE_MATCH=own["ETag"]).status_code == 304

    clock.shift(dt.timedelta(minutes=1))
    client_for(world.other_partner).put(_goal(world), {"goal": "decide"}, format="json")
    read = client_for(world.therapist).get(_goals(world))
    assert read.status_code == 200
    body = read.json()
    assert [(g["partner"], g["goal"]) for g in body["current"]] == [
        (str(world.partner.pk), "work_on_it"),
        (str(world.other_partner.pk), "decide"),
    ]
    assert [(g["partner"], g["goal"]) for g in body["history"]] == [
        (str(world.partner.pk), "unsure"),
        (str(world.partner.pk), "work_on_it"),
        (str(world.other_partner.pk), "decide"),
    ]


def test_a_former_partners_goals_stay_in_the_history_only(
    world: World, client_for: ClientFor
) -> None:
    client_for(world.other_partner).put(_goal(world), {"goal": "separate_well"}, format="json")
    Membership.objects.filter(couple=world.couple, user=world.other_partner).update(
        left_at=timezone.now(), partner_slot=None
    )
    body = client_for(world.therapist).get(_goals(world)).json()
    assert body["current"] == []
    assert [g["goal"] for g in body["history"]] == ["separate_well"]


def test_the_other_partner_never_reads_a_goal_nor_sees_the_couple_move(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    other = client_for(world.other_partner)
    couple = f"/api/v1/couples/{world.couple.pk}/"
    before = [other.get(url) for url in (couple, "/api/v1/couples/", _goal(world))]
    clock.shift(dt.timedelta(minutes=3))
    client_for(world.partner).put(_goal(world), {"goal": "decide"}, format="json")
    after = [other.get(url) for url in (couple, "/api/v1/couples/", _goal(world))]
    for earlier, later in zip(before, after, strict=True):
        assert (earlier.status_code, earlier.get("ETag"), earlier.content) == (
            later.status_code,
            later.get("ETag"),
            later.content,
        )
    assert after[2].status_code == 404
    assert other.get(_goals(world)).status_code == 403
    assert "goal" not in after[0].json()


def test_therapists_set_no_goal_and_outsiders_find_no_couple(
    world: World, client_for: ClientFor
) -> None:
    assert (
        client_for(world.therapist).put(_goal(world), {"goal": "decide"}, format="json").status_code
        == 403
    )
    for user in (world.outsider, world.other_therapist):
        assert (
            client_for(user).put(_goal(world), {"goal": "decide"}, format="json").status_code == 404
        )
        assert client_for(user).get(_goals(world)).status_code == 404
    assert not Goal.objects.exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"goal": "stay"}, ("goal", "invalid_choice")),
        ({}, ("goal", "required")),
        ({"goal": "decide", "note": "x" * 1001}, ("note", "max_length")),
        ({"goal": "decide", "note": "a\x00b"}, ("note", "null_characters_not_allowed")),
    ],
)
def test_a_bad_goal_is_refused_naming_the_field_and_nothing_is_written(
    world: World, client_for: ClientFor, body: dict[str, Any], error: tuple[str, str]
) -> None:
    response = client_for(world.partner).put(_goal(world), body, format="json")
    assert response.status_code == 400
    assert error in errors(response)
    assert not Goal.objects.exists()


def test_a_goal_makes_the_week_it_was_set_in_stale(world: World, client_for: ClientFor) -> None:
    report = stored_report(
        world.couple, world.partner, world.other_partner, week=dt.date(2026, 11, 23)
    )
    WeeklyReport.objects.filter(pk=report.pk).update(stale=False)
    client_for(world.partner).put(_goal(world), {"goal": "decide"}, format="json")
    report.refresh_from_db()
    assert report.stale
