"""A therapist onboards a couple (SPEC 5, issue 17): created today, four past weeks logged
through the API, `compute_reports` run: those weeks are reported with the exact figures."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from engagement.models import WeeklyReport
from tests.conftest import ClientFor
from tests.engagement.reports.test_scenario import Couple
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
TODAY = dt.datetime(2026, 11, 25, 10, tzinfo=UTC)  # a Wednesday: the creation week is 11-23
WEEKS = [dt.date(2026, 10, 26) + dt.timedelta(weeks=n) for n in range(4)]


def onboard(client_for: ClientFor) -> Couple:
    """Created today; for each past week: a joint session (E attended, rated 3; R absent),
    E's `couple` promise kept and R's missed; E's back-dated `couple` check-ins (four days in
    each of the two weeks the backfill window reaches)."""
    couple = Couple(client_for)
    couple.engaged, couple.reluctant = UserFactory.create(), UserFactory.create()
    with time_machine.travel(TODAY, tick=False):
        couple.create()
        couple.join(couple.engaged)
        couple.join(couple.reluctant)
        e, r = couple.engaged, couple.reluctant
        for week in WEEKS:
            joint = couple.session(f"{week + dt.timedelta(days=1)}T18:00:00Z")
            couple.attendance(joint, (e, "attended", 3), (r, "absent", None))
            couple.resolve(couple.therapist, couple.promise(e, week + dt.timedelta(days=3)), "keep")
            couple.resolve(couple.therapist, couple.promise(r, week + dt.timedelta(days=3)), "miss")
        for week in WEEKS[2:]:
            for offset in range(2, 6):
                couple.check_in(e, week + dt.timedelta(days=offset), "couple", mood=4)
    return couple


def test_an_onboarded_couples_history_is_reported_with_its_pattern(client_for: ClientFor) -> None:
    couple = onboard(client_for)

    out = io.StringIO()
    with time_machine.travel(TODAY + dt.timedelta(minutes=5), tick=False):
        call_command("compute_reports", stdout=out)

    # The four logged weeks; not the creation week (not ended), nor any week before them.
    assert sorted(WeeklyReport.objects.values_list("week_start", flat=True)) == WEEKS
    with time_machine.travel(TODAY + dt.timedelta(minutes=10), tick=False):
        body = couple.as_(couple.therapist).get("/api/v1/reports/", {"couple": couple.id}).json()
    reports = {r["week_start"]: r for r in body["results"]}
    e, r = str(couple.engaged.pk), str(couple.reluctant.pk)

    first = reports["2026-10-26"]
    # E: attendance 1, participation 1, follow-through 1; no check-in rate (joined after the
    # week, no check-in): 100. R: attendance 0, follow-through 0: 0.
    assert [p["engagement_score"] for p in first["partners"]] == [100.0, 0.0]
    assert first["partners"][0]["checkin_rate"] is None
    assert (first["balance"], first["gap"], first["gap_trend"]) == ("one_sided", 100.0, None)
    assert first["flags"] == []

    third = reports["2026-11-09"]
    assert third["partners"][0]["checkin_days"] == 4
    assert third["partners"][0]["checkin_rate"] == 1.0
    assert third["gap_trend"] == "stable"  # 100, 100, 100: no slope
    assert [(f["code"], f["partner"]) for f in third["flags"]] == [
        ("low_engagement_streak", r),
        ("engagement_gap_streak", r),
        ("commitments_unkept", r),
    ]

    last = reports["2026-11-16"]
    assert [(f["code"], f["partner"]) for f in last["flags"]] == [
        ("low_engagement_streak", r),
        ("engagement_gap_streak", r),
        ("commitments_unkept", r),
    ]
    assert last["flags"][1]["evidence"] == {
        "weeks": ["2026-11-02", "2026-11-09", "2026-11-16"],
        "gaps": [100.0, 100.0, 100.0],
    }
    assert last["flags"][2]["evidence"] == {
        "weeks": ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"],
        "kept": 0,
        "missed": 4,
        "follow_through": 0.0,
        "missed_renewals_of_missed": 0,
    }
    assert last["recommendations"] == [
        {"code": "assess_commitment", "partner": r},
        {"code": "consider_individual_sessions", "partner": r},
        {"code": "support_engaged_partner", "partner": e},
        {"code": "revisit_commitments", "partner": r},
    ]
    # Every input here is shared: the shared balance is the full one without participation.
    assert (last["shared_balance"], last["shared_gap"]) == ("one_sided", 100.0)


def test_the_first_partners_read_their_onboarding_history(client_for: ClientFor) -> None:
    couple = onboard(client_for)
    with time_machine.travel(TODAY + dt.timedelta(minutes=5), tick=False):
        call_command("compute_reports", stdout=io.StringIO())

    with time_machine.travel(TODAY + dt.timedelta(minutes=10), tick=False):
        for partner in (couple.engaged, couple.reluctant):
            body: Any = couple.as_(partner).get("/api/v1/reports/").json()
            assert [r["week_start"] for r in body["results"]] == [
                w.isoformat() for w in reversed(WEEKS)
            ]
            assert all(r["view"] == "partner" and r["flags"] == [] for r in body["results"])


def test_a_recomputation_of_a_week_before_creation_is_carried_out(
    client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    couple = onboard(client_for)
    with (
        time_machine.travel(TODAY + dt.timedelta(minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = couple.as_(couple.therapist).post(
            "/api/v1/reports/recompute/",
            {"couple": couple.id, "week_start": "2026-11-02"},
            format="json",
        )
    assert response.status_code == 202
    report = WeeklyReport.objects.get(week_start=dt.date(2026, 11, 2))
    assert report.balance == "one_sided"
