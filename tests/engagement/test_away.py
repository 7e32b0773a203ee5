"""Away periods through the API: record, read, edit, delete; who sees them (membership periods
included), what they refuse, what they mark stale, and what sync clients are told."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from engagement.models import AwayPeriod
from engagement.models import Membership
from engagement.models import Removal
from engagement.models import WeeklyReport
from tests.conftest import ClientFor
from tests.conftest import World
from tests.engagement.dates import NOW
from tests.engagement.reports.test_reports_api import stored_report
from tests.errors import errors
from tests.factories import UserFactory

# The clock stands still at NOW, a Wednesday (tests/engagement/conftest.py), in every test here.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

AWAY = "/api/v1/away/"
TODAY = NOW.date()


def _body(world: World, first: int = 0, last: int = 2, **fields: Any) -> dict[str, Any]:
    return {
        "couple": str(world.couple.pk),
        "starts_on": str(TODAY + dt.timedelta(days=first)),
        "ends_on": str(TODAY + dt.timedelta(days=last)),
        "reason": "travel",
        "visibility": "couple",
        **fields,
    }


def _post(client: APIClient, body: dict[str, Any]) -> Any:
    return client.post(AWAY, body, format="json")


def _ids(client: APIClient, **params: Any) -> list[str]:
    response = client.get(AWAY, params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- lifecycle ---------------------------------------------------------------------------------


def test_a_partner_records_edits_and_deletes_their_away_period(
    world: World, client_for: ClientFor
) -> None:
    partner = client_for(world.partner)
    created = _post(partner, _body(world, reason=None))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["partner"] == str(world.partner.pk)
    assert (body["starts_on"], body["ends_on"]) == ("2026-11-25", "2026-11-27")
    assert body["reason"] is None
    assert AwayPeriod.objects.get(pk=body["id"]).reason == ""  # stored as "" for none
    assert body["created_at"] == "2026-11-25T12:00:00.000Z"

    edited = partner.patch(f"{AWAY}{body['id']}/", {"reason": "illness"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["reason"] == "illness"
    cleared = partner.patch(f"{AWAY}{body['id']}/", {"reason": None}, format="json")
    assert cleared.json()["reason"] is None

    assert partner.delete(f"{AWAY}{body['id']}/").status_code == 204
    assert not AwayPeriod.objects.exists()


def test_the_detail_answers_304_to_its_etag(world: World, client_for: ClientFor) -> None:
    partner = client_for(world.partner)
    away = _post(partner, _body(world)).json()
    first = partner.get(f"{AWAY}{away['id']}/")
    again = partner.get(f"{AWAY}{away['id']}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


# --- what is refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"ends_on": str(TODAY + dt.timedelta(days=28))}, ("ends_on", "too_long")),
        ({"ends_on": str(TODAY - dt.timedelta(days=1))}, ("ends_on", "invalid")),
        ({"visibility": None}, ("visibility", "null")),
        ({"visibility": "private"}, ("visibility", "invalid_choice")),
        ({"reason": "holiday"}, ("reason", "invalid_choice")),
        ({"starts_on": "2026-13-01"}, ("starts_on", "invalid")),
    ],
)
def test_a_bad_period_is_refused_naming_the_field_and_nothing_is_written(
    world: World, client_for: ClientFor, fields: dict[str, Any], error: tuple[str, str]
) -> None:
    response = _post(client_for(world.partner), _body(world, **fields))
    assert response.status_code == 400
    assert error in errors(response)
    assert not AwayPeriod.objects.exists()


def test_visibility_is_required(world: World, client_for: ClientFor) -> None:
    body = _body(world)
    del body["visibility"]
    response = _post(client_for(world.partner), body)
    assert (response.status_code, errors(response)) == (400, [("visibility", "required")])


def test_28_days_is_the_longest_period(world: World, client_for: ClientFor) -> None:
    assert _post(client_for(world.partner), _body(world, 0, 27)).status_code == 201


def test_a_period_may_not_overlap_the_authors_other_periods_in_that_couple(
    world: World, client_for: ClientFor
) -> None:
    partner = client_for(world.partner)
    first = _post(partner, _body(world, 0, 2)).json()
    overlapping = _post(partner, _body(world, 2, 4, visibility="therapist"))
    assert (overlapping.status_code, errors(overlapping)) == (400, [("starts_on", "overlap")])
    # The day after is free, and so is the other partner's calendar.
    assert _post(partner, _body(world, 3, 4)).status_code == 201
    assert _post(client_for(world.other_partner), _body(world, 0, 2)).status_code == 201
    # Nor may an edit make one overlap.
    second = AwayPeriod.objects.get(partner=world.partner, starts_on=TODAY + dt.timedelta(days=3))
    moved = partner.patch(f"{AWAY}{second.pk}/", {"starts_on": str(TODAY)}, format="json")
    assert (moved.status_code, errors(moved)) == (400, [("starts_on", "overlap")])
    second.refresh_from_db()
    assert second.starts_on == TODAY + dt.timedelta(days=3)
    # Stretching its own dates over itself is fine.
    wider = partner.patch(f"{AWAY}{first['id']}/", {"starts_on": str(TODAY)}, format="json")
    assert wider.status_code == 200


def test_an_edit_past_28_days_is_refused(world: World, client_for: ClientFor) -> None:
    partner = client_for(world.partner)
    away = _post(partner, _body(world, 0, 2)).json()
    response = partner.patch(
        f"{AWAY}{away['id']}/", {"ends_on": str(TODAY + dt.timedelta(days=40))}, format="json"
    )
    assert (response.status_code, errors(response)) == (400, [("ends_on", "too_long")])
    assert AwayPeriod.objects.get(pk=away["id"]).ends_on == TODAY + dt.timedelta(days=2)


def test_only_its_author_changes_it(world: World, client_for: ClientFor) -> None:
    away = _post(client_for(world.partner), _body(world)).json()
    for user in (world.other_partner, world.therapist):
        client = client_for(user)
        assert (
            client.patch(f"{AWAY}{away['id']}/", {"reason": "other"}, format="json").status_code
            == 403
        )
        assert client.delete(f"{AWAY}{away['id']}/").status_code == 403
    assert AwayPeriod.objects.get(pk=away["id"]).reason == "travel"


def test_therapists_do_not_record_away_periods(world: World, client_for: ClientFor) -> None:
    response = _post(client_for(world.therapist), _body(world))
    assert response.status_code == 403
    assert not AwayPeriod.objects.exists()


# --- who reads it -------------------------------------------------------------------------------


def test_a_therapist_only_period_is_the_authors_and_the_therapists(
    world: World, client_for: ClientFor
) -> None:
    away = _post(client_for(world.partner), _body(world, visibility="therapist")).json()
    assert away["id"] in _ids(client_for(world.partner))
    assert away["id"] in _ids(client_for(world.therapist))
    assert _ids(client_for(world.other_partner)) == []
    assert _ids(client_for(world.outsider)) == []
    assert _ids(client_for(world.other_therapist)) == []
    assert client_for(world.other_partner).get(f"{AWAY}{away['id']}/").status_code == 404


def test_filters_by_couple_and_partner(world: World, client_for: ClientFor) -> None:
    mine = _post(client_for(world.partner), _body(world)).json()["id"]
    theirs = _post(client_for(world.other_partner), _body(world)).json()["id"]
    therapist = client_for(world.therapist)
    assert set(_ids(therapist, couple=str(world.couple.pk))) == {mine, theirs}
    assert _ids(therapist, partner=str(world.other_partner.pk)) == [theirs]
    assert _ids(therapist, couple=str(world.other_couple.pk)) == []


def test_a_later_partner_reads_only_what_was_shared_while_they_belong(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    partner = client_for(world.partner)
    before = _post(partner, _body(world, 0, 1)).json()["id"]
    # The other partner leaves; a newcomer joins on day 3.
    clock.shift(dt.timedelta(days=3))
    Membership.objects.filter(couple=world.couple, user=world.other_partner).update(
        left_at=timezone.now(), partner_slot=None
    )
    newcomer = UserFactory.create()
    Membership.objects.create(
        couple=world.couple, user=newcomer, role="partner", partner_slot=2, joined_at=timezone.now()
    )
    partner = client_for(world.partner)  # a fresh token: the old one expired meanwhile
    after = _post(partner, _body(world, 5, 6)).json()["id"]
    assert _ids(client_for(newcomer)) == [after]
    assert client_for(newcomer).get(f"{AWAY}{before}/").status_code == 404
    # The former partner reads nothing of the couple any more.
    assert _ids(client_for(world.other_partner)) == []


def test_the_other_partner_reads_a_widened_period_as_created_when_shared(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    partner = client_for(world.partner)
    away = _post(partner, _body(world, visibility="therapist")).json()
    clock.shift(dt.timedelta(hours=2))
    partner = client_for(world.partner)  # a fresh token: the old one expired meanwhile
    partner.patch(f"{AWAY}{away['id']}/", {"visibility": "couple"}, format="json")
    seen = client_for(world.other_partner).get(f"{AWAY}{away['id']}/").json()
    assert seen["created_at"] == "2026-11-25T14:00:00.000Z"
    assert partner.get(f"{AWAY}{away['id']}/").json()["created_at"] == "2026-11-25T12:00:00.000Z"


# --- sync: updated_since and removals ------------------------------------------------------------


def test_the_sync_feed_holds_what_changed_for_the_caller(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    partner, other = client_for(world.partner), client_for(world.other_partner)
    shared = _post(partner, _body(world, 0, 1)).json()["id"]
    since = (NOW + dt.timedelta(minutes=1)).isoformat()
    clock.shift(dt.timedelta(minutes=5))
    hidden = _post(partner, _body(world, 3, 4, visibility="therapist")).json()["id"]
    assert _ids(other, updated_since=since) == []
    assert _ids(partner, updated_since=since) == [hidden]
    assert _ids(other) == [shared]
    assert other.get(AWAY, {"updated_since": "2026-11-25"}).status_code == 400


def test_narrowing_and_deleting_tell_exactly_those_who_lose_sight(
    world: World, client_for: ClientFor
) -> None:
    partner = client_for(world.partner)
    away = _post(partner, _body(world)).json()["id"]
    partner.patch(f"{AWAY}{away}/", {"visibility": "therapist"}, format="json")
    assert set(Removal.objects.filter(object_id=away).values_list("user_id", "type")) == {
        (world.other_partner.pk, "away")
    }
    removals = client_for(world.other_partner).get("/api/v1/removals/").json()["results"]
    assert [(r["type"], r["id"]) for r in removals] == [("away", away)]
    partner.delete(f"{AWAY}{away}/")
    assert set(Removal.objects.filter(object_id=away).values_list("user_id", flat=True)) == {
        world.other_partner.pk,
        world.partner.pk,
        world.therapist.pk,
    }


def test_leaving_the_couple_removes_its_away_periods_from_the_leavers_apps(
    world: World, client_for: ClientFor
) -> None:
    away = _post(client_for(world.partner), _body(world)).json()["id"]
    response = client_for(world.other_partner).post(f"/api/v1/couples/{world.couple.pk}/leave/")
    assert response.status_code == 204
    assert Removal.objects.filter(user=world.other_partner, type="away", object_id=away).exists()


# --- reports made stale (SPEC 5.7) -------------------------------------------------------------


def _report(world: World, week: dt.date) -> WeeklyReport:
    report = stored_report(world.couple, world.partner, world.other_partner, week=week)
    WeeklyReport.objects.filter(pk=report.pk).update(stale=False)
    return report


def test_every_week_a_period_covered_before_and_after_an_edit_is_made_stale(
    world: World, client_for: ClientFor
) -> None:
    # Reports of four past weeks (Mondays); the period moves from the first to the third.
    mondays = [dt.date(2026, 10, 5) + dt.timedelta(weeks=n) for n in range(4)]
    early = dt.date(2026, 9, 28)
    reports = [_report(world, week) for week in [early, *mondays]]
    partner = client_for(world.partner)
    away = _post(
        partner,
        _body(world, visibility="therapist") | {"starts_on": "2026-10-09", "ends_on": "2026-10-10"},
    ).json()["id"]
    stale = set(WeeklyReport.objects.filter(stale=True).values_list("week_start", flat=True))
    assert stale == set(mondays)  # its week and the (here three) weeks after, not the one before
    WeeklyReport.objects.update(stale=False)
    partner.patch(
        f"{AWAY}{away}/", {"starts_on": "2026-10-19", "ends_on": "2026-10-20"}, format="json"
    )
    assert set(WeeklyReport.objects.filter(stale=True).values_list("week_start", flat=True)) == set(
        mondays
    )
    WeeklyReport.objects.update(stale=False)
    partner.delete(f"{AWAY}{away}/")
    assert set(WeeklyReport.objects.filter(stale=True).values_list("week_start", flat=True)) == set(
        mondays[2:]
    )
    assert reports


# --- cost ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 100])
def test_listing_away_periods_takes_the_same_few_queries_whatever_the_page_size(
    world: World, client_for: ClientFor, django_assert_max_num_queries: Any, page_size: int
) -> None:
    for n in range(30):
        for partner in (world.partner, world.other_partner):
            AwayPeriod.objects.create(
                couple=world.couple,
                partner=partner,
                starts_on=TODAY + dt.timedelta(days=2 * n),
                ends_on=TODAY + dt.timedelta(days=2 * n),
                visibility="couple",
            )
    client = client_for(world.other_partner)
    # The user, the reach (memberships), the page.
    with django_assert_max_num_queries(3):
        response = client.get(AWAY, {"page_size": page_size})
    assert len(response.json()["results"]) == min(page_size, 60)


def test_the_overlap_is_explained_in_the_callers_language(
    world: World, client_for: ClientFor
) -> None:
    partner = client_for(world.partner)
    _post(partner, _body(world, 0, 2))
    response = partner.post(AWAY, _body(world, 1, 3), format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert response.json()["errors"][0] == {
        "code": "overlap",
        "detail": "Se solapa con otra de tus ausencias en esta pareja.",
        "attr": "starts_on",
    }
