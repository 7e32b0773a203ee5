"""Methodology v1.1 through the API (SPEC 5, issues 17 and 18): rows of feedback, goals, away
periods and safety alerts made through the ORM, reports computed by the pipeline, and read by
the therapist (and the partners) through GET /reports/ with their exact figures, flags and
recommendations; the caseload order of SPEC 5.8."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import User
from engagement.models import Couple
from engagement.models import SafetyAlert
from engagement.models import WeeklyReport
from engagement.reports.pipeline import compute_reports
from tests.conftest import ClientFor
from tests.engagement.dates import LONG_AGO
from tests.engagement.dates import NOW
from tests.engagement.dates import W
from tests.engagement.reports.builders import away
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import feedback
from tests.engagement.reports.builders import goal
from tests.engagement.reports.builders import safety_alert
from tests.engagement.reports.builders import session
from tests.factories import TherapistFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def at(day: dt.date, hour: int = 18) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


def week(n: int) -> dt.date:
    return W - dt.timedelta(weeks=n)


def compute(couple: Couple, *weeks: dt.date) -> None:
    with time_machine.travel(NOW, tick=False):
        compute_reports({couple.pk: list(weeks) or [W]}, now=NOW)


def report_as(client_for: ClientFor, user: User, couple: Couple, start: dt.date = W) -> Any:
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        response = client_for(user).get(
            "/api/v1/reports/", {"couple": str(couple.pk), "week_start": start.isoformat()}
        )
    assert response.status_code == 200, response.content
    [body] = response.json()["results"]
    return body


def flags_of(body: Any) -> list[tuple[str, str | None]]:
    return [(f["code"], f["partner"]) for f in body["flags"]]


def recs_of(body: Any) -> list[tuple[str, str | None]]:
    return [(r["code"], r["partner"]) for r in body["recommendations"]]


def joint_with_feedback(
    couple: Couple, a: User, b: User, day: dt.date, a_points: int | None, b_points: int | None
) -> None:
    """A joint session both attended, with each partner's four items (points // 4 each)."""
    row = session(couple, at(day), {a: ("attended", None), b: ("attended", None)})
    for partner, points in ((a, a_points), (b, b_points)):
        if points is not None:
            feedback(row, partner, (points // 4,) * 4)


def test_split_alliance_through_the_api(client_for: ClientFor) -> None:
    # No check-in target: each partner's score is their attendance, 100.
    couple, a, b, therapist = couple_in(created_at=LONG_AGO, checkin_target_per_week=0)
    # b is 0.2 below a in the sessions of w-2 and w, even in w-1: 2 of the last 3.
    for n, (pa, pb) in zip((2, 1, 0), ((36, 28), (32, 32), (36, 28)), strict=True):
        joint_with_feedback(couple, a, b, week(n) + dt.timedelta(days=1), pa, pb)
    compute(couple, week(2), week(1), W)

    body = report_as(client_for, therapist, couple)

    assert [(p["engagement_score"], p["alliance"]) for p in body["partners"]] == [
        (100.0, 0.9),
        (100.0, 0.7),
    ]
    assert (body["balance"], body["gap"]) == ("balanced", 0.0)
    assert flags_of(body) == [("split_alliance", str(b.pk))]
    [flag] = body["flags"]
    assert flag["evidence"]["alliance"] == [0.7, 0.8, 0.7]
    assert flag["evidence"]["other_alliance"] == [0.9, 0.8, 0.9]
    assert flag["evidence"]["dates"] == ["2026-11-03", "2026-11-10", "2026-11-17"]
    assert flag["evidence"]["sessions_below"] == 2
    assert recs_of(body) == [("check_alliance", str(b.pk))]
    # Neither partner reads the other's feedback, the flag or the recommendation.
    mine = report_as(client_for, b, couple)
    assert mine["partners"][1]["alliance"] == 0.7  # their own
    assert mine["partners"][0]["alliance"] is None
    assert (mine["flags"], mine["recommendations"]) == ([], [])


def test_low_alliance_through_the_api(client_for: ClientFor) -> None:
    couple, a, b, therapist = couple_in(created_at=LONG_AGO, checkin_target_per_week=0)
    # a's alliance: 0.9 in w-2, then 0.6 and 0.5; b gives no feedback.
    for n, pa in ((2, 36), (1, 24), (0, 20)):
        joint_with_feedback(couple, a, b, week(n) + dt.timedelta(days=2), pa, None)
    compute(couple, W)

    body = report_as(client_for, therapist, couple)

    assert [p["alliance"] for p in body["partners"]] == [0.5, None]
    assert flags_of(body) == [("low_alliance", str(a.pk))]
    assert body["flags"][0]["evidence"]["alliance"] == [0.6, 0.5]
    assert recs_of(body) == [("check_alliance", str(a.pk))]


@pytest.mark.parametrize(
    ("b_goals", "mismatch"),
    [
        # Set late on Sunday, local time: still the goal at the end of w.
        ([("decide", (6, 23, 30))], True),
        # Changed within the week: the latest at its end counts.
        ([("separate_well", (1, 9, 0)), ("unsure", (5, 9, 0))], False),
        ([("unsure", (1, 9, 0)), ("separate_well", (5, 9, 0))], True),
        # Set on Monday 00:30 after w, local time: not w's.
        ([("decide", (7, 0, 30))], False),
    ],
)
def test_goal_mismatch_at_the_end_of_the_week_in_the_couples_timezone(
    client_for: ClientFor, b_goals: list[tuple[str, tuple[int, int, int]]], mismatch: bool
) -> None:
    # No target and no records: no score, so goal_mismatch is the only thing to flag.
    couple, a, b, therapist = couple_in(
        "America/Chicago", created_at=LONG_AGO, checkin_target_per_week=0
    )
    goal(couple, a, "work_on_it", at(week(3)))
    zone = ZoneInfo(couple.timezone)
    for value, (days, hour, minute) in b_goals:
        local = dt.datetime.combine(W + dt.timedelta(days=days), dt.time(hour, minute))
        goal(couple, b, value, local.replace(tzinfo=zone))
    compute(couple, W)

    body = report_as(client_for, therapist, couple)

    if mismatch:
        assert flags_of(body) == [("goal_mismatch", None)]
        assert body["flags"][0]["evidence"]["goals"][str(a.pk)] == "work_on_it"
        assert recs_of(body) == [("discernment_conversation", None)]
    else:
        assert flags_of(body) == []
        assert recs_of(body) == []


def one_sided_weeks(couple: Couple, a: User, b: User, weeks: int) -> None:
    """A joint session a week, the last ``weeks`` weeks: a attends, b is absent."""
    for n in range(weeks):
        session(
            couple, at(week(n) + dt.timedelta(days=1)), {a: ("attended", None), b: ("absent", None)}
        )


def test_safety_concern_shows_with_the_other_flags_and_withholds_their_advice(
    client_for: ClientFor,
) -> None:
    couple, a, b, therapist = couple_in(created_at=LONG_AGO, checkin_target_per_week=0)
    one_sided_weeks(couple, a, b, 4)
    # A retracted answer keeps its day (SPEC 5.1).
    safety_alert(couple, a, W + dt.timedelta(days=2), retracted=True)
    compute(couple, week(3), week(2), week(1), W)

    body = report_as(client_for, therapist, couple)

    assert [(p["engagement_score"], p["unsafe_days"]) for p in body["partners"]] == [
        (100.0, 1),
        (0.0, 0),
    ]
    assert flags_of(body) == [
        ("low_engagement_streak", str(b.pk)),
        ("engagement_gap_streak", str(b.pk)),
        ("safety_concern", str(a.pk)),
    ]
    assert body["flags"][2]["evidence"] == {"dates": ["2026-11-18"]}
    assert recs_of(body) == [("screen_individually", None)]
    # The week before, with no safety signal in its look-back, keeps its advice.
    earlier = report_as(client_for, therapist, couple, week(1))
    assert recs_of(earlier)[:2] == [
        ("assess_commitment", str(b.pk)),
        ("consider_individual_sessions", str(b.pk)),
    ]
    # Neither partner reads any of it, not even a's own count.
    for partner in (a, b):
        mine = report_as(client_for, partner, couple)
        assert [p["unsafe_days"] for p in mine["partners"]] == [None, None]
        assert (mine["flags"], mine["recommendations"]) == ([], [])


def test_a_safety_hold_withholds_the_advice_therapists_read_and_keeps_it_stored(
    client_for: ClientFor,
) -> None:
    couple, a, b, therapist = couple_in(created_at=LONG_AGO, checkin_target_per_week=0)
    one_sided_weeks(couple, a, b, 3)
    compute(couple, week(2), week(1), W)
    partner_before = report_as(client_for, a, couple)
    assert len(report_as(client_for, therapist, couple)["recommendations"]) == 3

    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        response = client_for(therapist).patch(
            f"/api/v1/couples/{couple.pk}/", {"safety_hold": True}, format="json"
        )
        assert response.status_code == 200, response.content

    body = report_as(client_for, therapist, couple)
    assert [f["code"] for f in body["flags"]] == ["low_engagement_streak", "engagement_gap_streak"]
    assert body["recommendations"] == []
    # The therapists' values moved with their view; the stored report keeps its advice.
    assert body["revision"] == 2
    assert len(WeeklyReport.objects.get(couple=couple, week_start=W).recommendations) == 3
    # A hold changes nothing a partner reads.
    assert report_as(client_for, a, couple) == partner_before


def test_away_days_pro_rate_the_checkin_target(client_for: ClientFor) -> None:
    couple, a, b, therapist = couple_in(created_at=LONG_AGO, checkin_target_per_week=4)
    # a: away Mon-Wed (shared), checked in Thursday and Friday: 2 / (4 x 4/7) = 0.875.
    away(couple, a, W, W + dt.timedelta(days=2), "couple")
    checkin(couple, a, W + dt.timedelta(days=3), "couple")
    checkin(couple, a, W + dt.timedelta(days=4), "couple")
    # b: away all week, therapist-only: no rate for the full view; the shared one counts the
    # whole target.
    away(couple, b, W - dt.timedelta(days=2), W + dt.timedelta(days=8), "therapist")
    Couple.objects.filter(pk=couple.pk).update(partners_see_balance=True)
    couple.memberships.filter(role="partner").update(shares_balance=True)
    compute(couple, W)

    body = report_as(client_for, therapist, couple)

    figures = [(p["away_days"], p["checkin_days"], p["checkin_rate"]) for p in body["partners"]]
    assert figures == [(3, 2, 0.875), (7, 0, None)]
    assert [p["engagement_score"] for p in body["partners"]] == [87.5, None]
    assert body["balance"] == "insufficient_data"
    # The shared balance: a 2 / (4 x 4/7) = 87.5, b 0 / 4 = 0 (b's period is not shared).
    assert (body["shared_balance"], body["shared_gap"]) == ("one_sided", 87.5)
    mine = report_as(client_for, a, couple)
    assert (mine["balance"], mine["gap"]) == ("one_sided", 87.5)
    assert mine["partners"][0]["away_days"] == 3
    assert mine["partners"][1]["away_days"] is None


# --- the caseload (SPEC 5.8) -------------------------------------------------------------------


def test_an_unacknowledged_alert_leads_the_caseload_until_acknowledged(
    client_for: ClientFor,
) -> None:
    therapist: User = TherapistFactory.create()

    def couple(name: str, **fields: Any) -> tuple[Couple, User, User]:
        c, a, b, _ = make_couple(therapist=therapist, name=name, created_at=LONG_AGO, **fields)
        return c, a, b

    alerted, a, _ = couple("alerted")  # no report at all
    alert = safety_alert(alerted, a, NOW.date())
    couple("hold", safety_hold=True)
    concern, c, d = couple("concern")
    session(concern, at(W + dt.timedelta(days=1)), {c: ("attended", None), d: ("attended", None)})
    safety_alert(concern, c, W, acknowledged_at=NOW)  # acknowledged, but in the report
    compute(concern, W)
    split, e, f = couple("split", checkin_target_per_week=0)
    for n, (pe, pf) in zip((2, 1, 0), ((36, 20), (36, 20), (36, 20)), strict=True):
        joint_with_feedback(split, e, f, week(n) + dt.timedelta(days=1), pe, pf)
    compute(split, W)
    mismatch, g, h = couple("mismatch")
    goal(mismatch, g, "work_on_it", at(week(1)))
    goal(mismatch, h, "separate_well", at(week(1)))
    compute(mismatch, W)
    couple("quiet")

    def order() -> list[tuple[str, str]]:
        with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
            body = client_for(therapist).get("/api/v1/caseload/").json()
        return [(entry["name"], entry["urgency"]) for entry in body["results"]]

    first = order()
    # split and mismatch share a level and a gap of 0: their order is the couples' ids'.
    assert first[:3] == [
        ("concern", "safety"),
        ("alerted", "safety"),  # no report: after the one with a gap
        ("hold", "safety_hold"),
    ]
    assert sorted(first[3:5]) == [("mismatch", "engagement"), ("split", "engagement")]
    assert first[5:] == [("quiet", "no_report")]

    SafetyAlert.objects.filter(pk=alert.pk).update(acknowledged_at=NOW, acknowledged_by=therapist)

    after = order()
    assert after[:2] == [("concern", "safety"), ("hold", "safety_hold")]
    assert sorted(after[-2:]) == [("alerted", "no_report"), ("quiet", "no_report")]
