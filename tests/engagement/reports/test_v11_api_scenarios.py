"""Methodology v1.1 built entirely through the API (SPEC 5, issues 17 and 18 "done when"): the
therapist creates the couple and logs sessions and attendance, the partners join by invitation,
give session feedback, set goals, record away periods and check in (`afraid_or_hurt` too), all
as their apps would; `manage.py compute_reports` runs; the therapist (and the partners) read
GET /reports/ with figures, flags and recommendations worked out by hand from SPEC 5."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from engagement.models import WeeklyReport
from tests.conftest import ClientFor
from tests.engagement.dates import NOW
from tests.engagement.dates import W
from tests.engagement.reports.builders import partner_entry
from tests.engagement.reports.test_scenario import Couple
from tests.factories import TherapistFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def week(n: int) -> dt.date:
    return W - dt.timedelta(weeks=n)


def evening(day: dt.date) -> str:
    return f"{day.isoformat()}T18:00:00Z"


class Apps(Couple):
    """The couple's apps and its therapist's (tests/engagement/reports/test_scenario.py), with
    the v1.1 resources: feedback, goals, away periods, safety answers, balance sharing."""

    def __init__(self, client_for: ClientFor, therapist: User | None = None) -> None:
        super().__init__(client_for)
        if therapist is not None:
            self.therapist = therapist
        self.a, self.b = self.engaged, self.reluctant

    def open(self, name: str = "A. & B.", timezone: str = "UTC", target: int = 4) -> None:
        body = {"name": name, "timezone": timezone, "checkin_target_per_week": target}
        response = self.as_(self.therapist).post("/api/v1/couples/", body, format="json")
        created = self.ok(response, 201)
        assert created["checkin_target_per_week"] == target
        self.id = created["id"]

    def open_with_both(self, **fields: Any) -> None:
        self.open(**fields)
        self.join(self.a)
        self.join(self.b)

    def joint(self, day: dt.date, a: str = "attended", b: str = "attended") -> str:
        session = self.session(evening(day))
        self.attendance(session, (self.a, a, None), (self.b, b, None))
        return session

    def feedback(self, partner: User, session: str, points: int) -> None:
        """Four items of points // 4 each: the session's alliance is points / 40."""
        item = points // 4
        body = {"understood": item, "helpful": item, "spoke_freely": item, "coming_back": item}
        response = self.as_(partner).put(
            f"/api/v1/sessions/{session}/feedback/", body, format="json"
        )
        self.ok(response, 201)

    def goal(self, partner: User, value: str) -> None:
        response = self.as_(partner).put(
            f"/api/v1/couples/{self.id}/goal/", {"goal": value}, format="json"
        )
        assert response.status_code in (200, 201), response.content
        assert response.json()["goal"] == value

    def away(self, partner: User, starts: dt.date, ends: dt.date, visibility: str) -> None:
        body = {
            "couple": self.id,
            "starts_on": starts.isoformat(),
            "ends_on": ends.isoformat(),
            "visibility": visibility,
        }
        self.ok(self.as_(partner).post("/api/v1/away/", body, format="json"), 201)

    def answer(self, partner: User, date: dt.date, visibility: str, **fields: Any) -> Any:
        body = {"couple": self.id, "visibility": visibility, **fields}
        response = self.as_(partner).put(
            f"/api/v1/checkins/{date.isoformat()}/", body, format="json"
        )
        return self.ok(response, 201)

    def share_balance(self) -> None:
        response = self.as_(self.therapist).patch(
            f"/api/v1/couples/{self.id}/", {"partners_see_balance": True}, format="json"
        )
        self.ok(response, 200)
        for partner in (self.a, self.b):
            response = self.as_(partner).post(
                f"/api/v1/couples/{self.id}/share-balance/", {"share": True}, format="json"
            )
            self.ok(response, 200)

    def report(self, user: User, start: dt.date = W) -> Any:
        response = self.as_(user).get(
            "/api/v1/reports/", {"couple": self.id, "week_start": start.isoformat()}
        )
        [body] = self.ok(response, 200)["results"]
        return body


def compute_reports_now() -> None:
    """The hourly run, as operators start it by hand."""
    call_command("compute_reports", stdout=io.StringIO())


def minutes_later(minutes: int) -> Any:
    """The clock frozen ``minutes`` after NOW, when the apps wrote."""
    return time_machine.travel(NOW + dt.timedelta(minutes=minutes), tick=False)


def compute_reports_after_writes() -> None:
    """The hourly run, five minutes after the apps wrote."""
    with minutes_later(5):
        compute_reports_now()


def entry(body: Any, partner: User) -> Any:
    [found] = [p for p in body["partners"] if p["partner"] == str(partner.pk)]
    return found


def flags_of(body: Any) -> list[tuple[str, str | None]]:
    return [(f["code"], f["partner"]) for f in body["flags"]]


def recs_of(body: Any) -> list[tuple[str, str | None]]:
    return [(r["code"], r["partner"]) for r in body["recommendations"]]


def all_null_but_the_id(figures: Any) -> bool:
    return all(value is None for key, value in figures.items() if key != "partner")


# --- 1. split alliance -------------------------------------------------------------------------


def test_split_alliance_from_feedback_given_through_the_api(client_for: ClientFor) -> None:
    apps = Apps(client_for)
    with time_machine.travel(NOW, tick=False):
        # No check-in target and no ratings: each score is the attendance alone.
        apps.open_with_both(target=0)
        # A joint session on the Tuesday of w-2, w-1 and w; both attended, both give feedback
        # (the window runs from the attendance being recorded: today).
        sessions = []
        for n, (pa, pb) in zip((2, 1, 0), ((36, 28), (32, 32), (36, 28)), strict=True):
            session = apps.joint(week(n) + dt.timedelta(days=1))
            apps.feedback(apps.a, session, pa)
            apps.feedback(apps.b, session, pb)
            sessions.append(session)
    compute_reports_after_writes()

    with minutes_later(10):
        body = apps.report(apps.therapist)
        mine = {p: apps.report(p) for p in (apps.a, apps.b)}

    b = str(apps.b.pk)
    # attendance 1/1, nothing else: 100 each; gap 0.
    assert (entry(body, apps.a)["engagement_score"], entry(body, apps.b)["engagement_score"]) == (
        100.0,
        100.0,
    )
    assert (body["balance"], body["gap"]) == ("balanced", 0.0)
    # Alliance in w: a 36/40 = 0.9, b 28/40 = 0.7.
    assert (entry(body, apps.a)["alliance"], entry(body, apps.b)["alliance"]) == (0.9, 0.7)
    # b per session: 0.7, 0.8, 0.7 against a's 0.9, 0.8, 0.9: 0.2 below on 2 of the last 3.
    assert flags_of(body) == [("split_alliance", b)]
    assert body["flags"][0]["evidence"] == {
        "sessions": sessions,
        "dates": ["2026-11-03", "2026-11-10", "2026-11-17"],
        "alliance": [0.7, 0.8, 0.7],  # 28/40, 32/40, 28/40
        "other_alliance": [0.9, 0.8, 0.9],  # 36/40, 32/40, 36/40
        "sessions_below": 2,  # 0.9 - 0.7 = 0.2 twice; 0.8 - 0.8 = 0
    }
    assert recs_of(body) == [("check_alliance", b)]

    # Each partner: their own alliance, the other's entry all null, no flag, no advice.
    for partner, other, own in ((apps.a, apps.b, 0.9), (apps.b, apps.a, 0.7)):
        view = mine[partner]
        assert view["view"] == "partner"
        assert entry(view, partner)["alliance"] == own
        assert all_null_but_the_id(entry(view, other))
        assert (view["flags"], view["recommendations"]) == ([], [])
        assert view["less_engaged_partner"] is None


# --- 2. low alliance ---------------------------------------------------------------------------


def test_low_alliance_from_feedback_given_through_the_api(client_for: ClientFor) -> None:
    apps = Apps(client_for)
    with time_machine.travel(NOW, tick=False):
        apps.open_with_both(target=0)
        # Only a gives feedback: 36/40 = 0.9 in w-2, 24/40 = 0.6 in w-1, 20/40 = 0.5 in w.
        sessions = []
        for n, pa in ((2, 36), (1, 24), (0, 20)):
            session = apps.joint(week(n) + dt.timedelta(days=2))
            apps.feedback(apps.a, session, pa)
            sessions.append(session)
    compute_reports_after_writes()

    with minutes_later(10):
        body = apps.report(apps.therapist)
        earlier = apps.report(apps.therapist, week(1))

    a = str(apps.a.pk)
    assert (entry(body, apps.a)["alliance"], entry(body, apps.b)["alliance"]) == (0.5, None)
    # a's last 2 sessions with feedback: 0.6 (w-1) and 0.5 (w), both below 0.7, the later in w.
    assert flags_of(body) == [("low_alliance", a)]
    assert body["flags"][0]["evidence"] == {
        "sessions": sessions[1:],
        "dates": ["2026-11-11", "2026-11-18"],
        "alliance": [0.6, 0.5],
    }
    assert recs_of(body) == [("check_alliance", a)]
    # In w-1 the last two are 0.9 and 0.6: not both below.
    assert flags_of(earlier) == []


# --- 3. goal mismatch --------------------------------------------------------------------------


def test_goal_mismatch_until_a_partner_changes_their_goal(client_for: ClientFor) -> None:
    apps = Apps(client_for)
    # Tuesday of w-1: the couple starts; a wants to work on it, b to decide.
    with time_machine.travel(dt.datetime(2026, 11, 10, 9, tzinfo=UTC), tick=False):
        apps.open_with_both(target=0)
        apps.goal(apps.a, "work_on_it")
        apps.goal(apps.b, "decide")
    # Monday of w: the run reports w-1.
    with time_machine.travel(dt.datetime(2026, 11, 16, 10, tzinfo=UTC), tick=False):
        compute_reports_now()
    # Wednesday of w: b now wants to work on it too.
    with time_machine.travel(dt.datetime(2026, 11, 18, 9, tzinfo=UTC), tick=False):
        apps.goal(apps.b, "work_on_it")
    with time_machine.travel(NOW, tick=False):
        compute_reports_now()
        mismatch = apps.report(apps.therapist, week(1))
        agreed = apps.report(apps.therapist, W)
        history = apps.ok(apps.as_(apps.therapist).get(f"/api/v1/couples/{apps.id}/goals/"), 200)
        partner_view = apps.report(apps.a, week(1))

    # End of w-1: work_on_it against decide, a mixed agenda; a flag about the couple.
    assert flags_of(mismatch) == [("goal_mismatch", None)]
    assert mismatch["flags"][0]["evidence"] == {
        "week_end": "2026-11-15",
        "goals": {str(apps.a.pk): "work_on_it", str(apps.b.pk): "decide"},
        "set_on": {str(apps.a.pk): "2026-11-10", str(apps.b.pk): "2026-11-10"},
    }
    assert recs_of(mismatch) == [("discernment_conversation", None)]
    # End of w: both work_on_it.
    assert flags_of(agreed) == []
    assert recs_of(agreed) == []
    assert len(history["history"]) == 3
    # No partner reads it.
    assert (partner_view["flags"], partner_view["recommendations"]) == ([], [])


# --- 4. safety ---------------------------------------------------------------------------------


def test_a_safety_answer_reaches_the_therapist_and_withholds_the_advice(
    client_for: ClientFor,
) -> None:
    apps = Apps(client_for)
    wednesday = W + dt.timedelta(days=2)
    with time_machine.travel(NOW, tick=False):
        apps.open_with_both(target=0)
        # a's alliance 24/40 = 0.6 in w-1 and 20/40 = 0.5 in w: low_alliance, check_alliance.
        for n, pa in ((1, 24), (0, 20)):
            session = apps.joint(week(n) + dt.timedelta(days=1))
            apps.feedback(apps.a, session, pa)
        answered = apps.answer(
            apps.b, wednesday, "private", wellbeing=2, afraid_or_hurt=True, note="x"
        )
        own = apps.ok(
            apps.as_(apps.b).get(f"/api/v1/checkins/{wednesday.isoformat()}/", {"couple": apps.id}),
            200,
        )
        alerts = apps.ok(apps.as_(apps.therapist).get("/api/v1/safety-alerts/"), 200)

    assert answered["safety_resources"]
    assert answered["safety_resources"] == settings.SAFETY_RESOURCES["en"]
    assert "afraid_or_hurt" not in answered
    assert "afraid_or_hurt" not in own
    [alert] = alerts["results"]
    assert (alert["partner"], alert["date"], alert["acknowledged_at"]) == (
        str(apps.b.pk),
        "2026-11-18",
        None,
    )

    compute_reports_after_writes()
    with minutes_later(10):
        body = apps.report(apps.therapist)
        mine = {p: apps.report(p) for p in (apps.a, apps.b)}

    a, b = str(apps.a.pk), str(apps.b.pk)
    assert (entry(body, apps.a)["unsafe_days"], entry(body, apps.b)["unsafe_days"]) == (0, 1)
    assert flags_of(body) == [("safety_concern", b), ("low_alliance", a)]
    assert body["flags"][0]["evidence"] == {"dates": ["2026-11-18"]}
    assert body["flags"][1]["evidence"]["alliance"] == [0.6, 0.5]  # 24/40, 20/40
    # check_alliance for a is withheld under the safety signal; only the screen remains.
    assert recs_of(body) == [("screen_individually", None)]
    for view in mine.values():
        assert [p["unsafe_days"] for p in view["partners"]] == [None, None]
        assert (view["flags"], view["recommendations"]) == ([], [])


def test_an_unacknowledged_alert_leads_the_caseload_until_acknowledged(
    client_for: ClientFor,
) -> None:
    therapist: User = TherapistFactory.create()
    alerted, lopsided = Apps(client_for, therapist), Apps(client_for, therapist)
    with time_machine.travel(NOW, tick=False):
        # alerted: both attended w's session: 100 and 100, gap 0.
        alerted.open_with_both(name="alerted", target=0)
        alerted.joint(W + dt.timedelta(days=1))
        # lopsided: b absent: 100 and 0, gap 100 (one week only: no streak, no flag).
        lopsided.open_with_both(name="lopsided", target=0)
        lopsided.joint(W + dt.timedelta(days=1), b="absent")
    compute_reports_after_writes()
    # Yesterday, in the current week (not reported): alerted's b answers.
    with minutes_later(10):
        alerted.answer(
            alerted.b, NOW.date() - dt.timedelta(days=1), "private", mood=2, afraid_or_hurt=True
        )

    def caseload() -> list[tuple[str, str]]:
        with minutes_later(20):
            body = alerted.ok(client_for(therapist).get("/api/v1/caseload/"), 200)
        return [(row["name"], row["urgency"]) for row in body["results"]]

    # No report carries safety_concern: the alert alone puts alerted first, gap 0 or not.
    assert alerted.report(therapist)["flags"] == []
    assert caseload()[0] == ("alerted", "safety")

    with minutes_later(15):
        [alert] = alerted.ok(client_for(therapist).get("/api/v1/safety-alerts/"), 200)["results"]
        alerted.ok(
            client_for(therapist).post(f"/api/v1/safety-alerts/{alert['id']}/acknowledge/"), 200
        )

    # Same level now: the larger gap (100 against 0) leads.
    after = caseload()
    assert after[0][0] == "lopsided"
    assert [name for name, _ in after] == ["lopsided", "alerted"]
    assert after[1][1] != "safety"


# --- 5. away periods pro-rate the target -------------------------------------------------------


def test_away_periods_pro_rate_the_checkin_target(client_for: ClientFor) -> None:
    apps = Apps(client_for)
    with time_machine.travel(NOW, tick=False):
        apps.open_with_both(target=4)
        apps.share_balance()
        # a: in every day, checked in Monday to Thursday, `couple`.
        for offset in range(4):
            apps.answer(apps.a, W + dt.timedelta(days=offset), "couple", mood=4)
        # b: away Monday to Wednesday (therapist-only) and Thursday (shared); in on Friday.
        apps.away(apps.b, W, W + dt.timedelta(days=2), "therapist")
        apps.away(apps.b, W + dt.timedelta(days=3), W + dt.timedelta(days=3), "couple")
        apps.answer(apps.b, W + dt.timedelta(days=4), "couple", mood=3)
    compute_reports_after_writes()
    with minutes_later(10):
        body = apps.report(apps.therapist)
        mine_a = apps.report(apps.a)
        mine_b = apps.report(apps.b)

    a, b = entry(body, apps.a), entry(body, apps.b)
    # a: expected 4 x 7/7 = 4; 4 days: rate 1.0, score 100.0 (the only component).
    assert (a["away_days"], a["checkin_days"], a["checkin_rate"], a["engagement_score"]) == (
        0,
        4,
        1.0,
        100.0,
    )
    # b: away 3 + 1 = 4 days; expected 4 x (7 - 4)/7 = 12/7; 1 day: 1 / (12/7) = 7/12
    # = 0.58333…: 0.5833; score 100 x 7/12 = 58.33…: 58.3.
    assert (b["away_days"], b["checkin_days"], b["checkin_rate"], b["engagement_score"]) == (
        4,
        1,
        0.5833,
        58.3,
    )
    # Full balance: 100.0 - 58.3 = 41.7, one_sided (35 or more), b less engaged.
    assert (body["balance"], body["gap"], body["less_engaged_partner"]) == (
        "one_sided",
        41.7,
        str(apps.b.pk),
    )
    # Shared balance: only b's `couple` away day reduces the target: 4 x (7 - 1)/7 = 24/7;
    # 1 / (24/7) = 7/24 = 0.291666…: score 29.2; a 4 / 4: 100.0. Gap 100.0 - 29.2 = 70.8.
    assert (body["shared_balance"], body["shared_gap"]) == ("one_sided", 70.8)
    # The partners see the shared one.
    assert (mine_a["balance"], mine_a["gap"]) == ("one_sided", 70.8)
    assert all_null_but_the_id(entry(mine_a, apps.b))
    # b's own figures are b's, their own therapist-only period included (SPEC 5.6).
    own = entry(mine_b, apps.b)
    assert (own["away_days"], own["checkin_rate"], own["engagement_score"]) == (4, 0.5833, 58.3)
    assert (mine_b["balance"], mine_b["gap"]) == ("one_sided", 70.8)


# --- 6. onboarding across timezones ------------------------------------------------------------

# 20:00 UTC on Wednesday 25 November is 09:00 on Thursday 26 November in Auckland (NZDT, UTC+13)
# and 12:00 on Wednesday 25 November in Los Angeles (PST, UTC-8).
TODAY = dt.datetime(2026, 11, 25, 20, tzinfo=UTC)
WEEKS = [dt.date(2026, 10, 26) + dt.timedelta(weeks=n) for n in range(4)]  # Auckland Mondays


def auckland_monday_morning(monday: dt.date) -> str:
    """09:00 on that Monday in Auckland: 20:00 UTC on the Sunday before (the UTC week before)."""
    return f"{(monday - dt.timedelta(days=1)).isoformat()}T20:00:00Z"


def test_an_onboarded_couple_across_timezones(client_for: ClientFor) -> None:
    apps = Apps(client_for)
    e, r = apps.a, apps.b  # e engaged, r reluctant, joining late
    sessions: list[str] = []
    with time_machine.travel(TODAY, tick=False):
        apps.open(timezone="Pacific/Auckland", target=4)
        apps.ok(
            apps.as_(e).patch("/api/v1/me/", {"timezone": "America/Los_Angeles"}, format="json"),
            200,
        )
        apps.join(e)
        for monday in WEEKS:
            session = apps.session(auckland_monday_morning(monday))
            apps.attendance(session, (e, "attended", 3))
            sessions.append(session)
            apps.resolve(e, apps.promise(e, monday + dt.timedelta(days=3)), "keep")
        # The backfill window is the couple's: today in Auckland is 11-26, so back to 11-12
        # (not the 11-11 e's own Los Angeles date would allow) and forward to 11-27.
        refused = apps.as_(e).put(
            "/api/v1/checkins/2026-11-11/", {"couple": apps.id, "visibility": "couple", "mood": 4}
        )
        assert refused.status_code == 400, refused.content
        assert [error["attr"] for error in refused.json()["errors"]] == ["date"]
        for first in (dt.date(2026, 11, 12), dt.date(2026, 11, 16)):
            for offset in range(4):
                apps.check_in(e, first + dt.timedelta(days=offset), "couple", mood=4)
    # r joins two hours later; the therapist logs r's absences and missed promises.
    with time_machine.travel(TODAY + dt.timedelta(hours=2), tick=False):
        apps.join(r)
        for monday, session in zip(WEEKS, sessions, strict=True):
            apps.attendance(session, (e, "attended", 3), (r, "absent", None))
            apps.resolve(apps.therapist, apps.promise(r, monday + dt.timedelta(days=3)), "miss")
    with time_machine.travel(TODAY + dt.timedelta(hours=2, minutes=5), tick=False):
        compute_reports_now()

    # Every Auckland week from the earliest with data, none of the UTC weeks before them, not
    # the creation week (not over).
    assert sorted(WeeklyReport.objects.values_list("week_start", flat=True)) == WEEKS
    with time_machine.travel(TODAY + dt.timedelta(hours=2, minutes=10), tick=False):
        reports = {w: apps.report(apps.therapist, w) for w in WEEKS}
        listed = apps.ok(apps.as_(r).get("/api/v1/reports/"), 200)["results"]
    assert [row["week_start"] for row in listed] == [w.isoformat() for w in reversed(WEEKS)]

    first = reports[WEEKS[0]]
    # e: attendance 1/1, participation 3/3, follow-through 1/1; no check-in rate (the week
    # ended before e joined and e did not check in): 100.0. r: attendance 0/1, no rating, no
    # check-in rate, follow-through 0/1: 100 x (0.35 x 0 + 0.30 x 0) / 0.65 = 0.0.
    assert [entry(first, p)["engagement_score"] for p in (e, r)] == [100.0, 0.0]
    assert entry(first, e)["checkin_rate"] is None
    assert (first["balance"], first["gap"], first["gap_trend"]) == ("one_sided", 100.0, None)

    last = reports[WEEKS[3]]
    # 100 x (0.35 x 1 + 0.15 x 1 + 0.20 x 1 + 0.30 x 1) / 1.0: participation 3 / 3, check-in
    # rate min(1, 4 / (4 x 7/7)).
    assert entry(last, e) == partner_entry(e, mood_avg=4.0)
    assert (entry(last, r)["engagement_score"], entry(last, r)["checkin_rate"]) == (0.0, None)
    # Gaps 100, 100, 100, 100 over w-3 … w: slope 0, stable.
    assert (last["balance"], last["gap"], last["gap_trend"]) == ("one_sided", 100.0, "stable")
    assert last["less_engaged_partner"] == str(r.pk)
    assert flags_of(last) == [
        ("low_engagement_streak", str(r.pk)),
        ("engagement_gap_streak", str(r.pk)),
        ("commitments_unkept", str(r.pk)),
    ]
    assert [f["evidence"] for f in last["flags"]] == [
        {"weeks": ["2026-11-02", "2026-11-09", "2026-11-16"], "scores": [0.0, 0.0, 0.0]},
        {"weeks": ["2026-11-02", "2026-11-09", "2026-11-16"], "gaps": [100.0, 100.0, 100.0]},
        # Over w-3 … w: 4 missed, 0 kept: follow-through 0 / (0 + 4) = 0.0.
        {
            "weeks": ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"],
            "kept": 0,
            "missed": 4,
            "follow_through": 0.0,
            "missed_renewals_of_missed": 0,
        },
    ]
    assert recs_of(last) == [
        ("assess_commitment", str(r.pk)),
        ("consider_individual_sessions", str(r.pk)),
        ("support_engaged_partner", str(e.pk)),
        ("revisit_commitments", str(r.pk)),
    ]
