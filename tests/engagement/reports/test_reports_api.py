"""Reports API: who reads what (SPEC 1, 5.6), recomputation, the week so far, the caseload."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from tests.conftest import ACTORS
from tests.conftest import ClientFor
from tests.conftest import World
from tests.engagement.dates import NOW
from tests.engagement.dates import W
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import figures
from tests.engagement.reports.builders import partner_view
from tests.engagement.reports.builders import session
from tests.engagement.reports.builders import status_change
from tests.factories import TherapistFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

UTC = dt.UTC

FIGURES = figures(
    engagement_score=80.0,
    participation=0.6667,
    checkin_rate=0.5,
    checkin_days=2,
    mood_avg=3.5,
    resentment_avg=2.0,
    wellbeing_avg=4.0,
)
NO_FIGURES = dict.fromkeys(FIGURES)


def stored_report(
    couple: Couple,
    first: User,
    second: User,
    *,
    week: dt.date = W,
    flags: list[str] | None = None,
    gap: float | None = 40.0,
) -> WeeklyReport:
    """A stored report in which `second` is less engaged, with flags of the given codes."""
    codes = ["engagement_gap_streak"] if flags is None else flags
    # A week before the couple's creation week holding no record gets no report (SPEC 5):
    # the couple existed by then, as the partners' memberships did.
    existed = dt.datetime.combine(week, dt.time(), tzinfo=UTC) - dt.timedelta(weeks=1)
    Couple.objects.filter(pk=couple.pk, created_at__gt=existed).update(created_at=existed)
    Membership.objects.filter(couple=couple, joined_at__gt=existed).update(joined_at=existed)
    couple.refresh_from_db()
    return WeeklyReport.objects.create(
        couple=couple,
        week_start=week,
        balance="one_sided" if gap is not None and gap >= 35 else "balanced",
        gap=gap,
        gap_trend="widening",
        less_engaged_partner=second,
        partners=[
            {"partner": str(first.pk), **FIGURES},
            {"partner": str(second.pk), **FIGURES, "engagement_score": 40.0},
        ],
        flags=[{"code": code, "partner": str(second.pk), "evidence": {}} for code in codes],
        recommendations=[{"code": "assess_commitment", "partner": str(second.pk)}],
        methodology="v1.1",
        shared_balance="leaning",
        shared_gap=20.0,
        shared_gap_trend="stable",
        partner_views=[partner_view(first, 85.0, 50.0), partner_view(second, 30.0, 30.0)],
    )


@pytest.fixture
def report(world: World) -> WeeklyReport:
    return stored_report(world.couple, world.partner, world.other_partner)


# --- the permission matrix --------------------------------------------------------------------
# Statuses by actor, in the order of ACTORS: anonymous, outsider, partner, other_partner,
# therapist, other_therapist.

DETAIL_EXPECTED = dict(zip(ACTORS, (401, 404, 200, 200, 200, 404), strict=True))


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_a_report(
    actor: str, world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    response = client_for(world.actor(actor)).get(f"/api/v1/reports/{report.pk}/")

    assert response.status_code == DETAIL_EXPECTED[actor]
    if response.status_code == 200:
        assert response.json()["view"] == ("full" if actor == "therapist" else "partner")


@pytest.mark.parametrize("actor", ACTORS)
def test_listing_reports(
    actor: str, world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    response = client_for(world.actor(actor)).get("/api/v1/reports/")

    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    ids = [r["id"] for r in response.json()["results"]]
    assert ids == ([str(report.pk)] if DETAIL_EXPECTED[actor] == 200 else [])


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_the_week_so_far(actor: str, world: World, client_for: ClientFor) -> None:
    response = client_for(world.actor(actor)).get(
        "/api/v1/reports/current/", {"couple": str(world.couple.pk)}
    )

    assert response.status_code == DETAIL_EXPECTED[actor]
    if response.status_code == 200:
        body = response.json()
        assert (body["id"], body["revision"]) == (None, None)
        assert body["view"] == ("full" if actor == "therapist" else "partner")


RECOMPUTE_EXPECTED = dict(zip(ACTORS, (401, 400, 403, 403, 202, 400), strict=True))


@pytest.mark.parametrize("actor", ACTORS)
def test_asking_for_a_recomputation(actor: str, world: World, client_for: ClientFor) -> None:
    response = client_for(world.actor(actor)).post(
        "/api/v1/reports/recompute/",
        {"couple": str(world.couple.pk), "week_start": "2026-11-16"},
    )

    assert response.status_code == RECOMPUTE_EXPECTED[actor]
    if response.status_code == 400:
        assert response.json()["errors"][0]["code"] == "does_not_exist"
        assert response.json()["errors"][0]["attr"] == "couple"


CASELOAD_EXPECTED = dict(zip(ACTORS, (401, 403, 403, 403, 200, 200), strict=True))


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_a_caseload(
    actor: str, world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    response = client_for(world.actor(actor)).get("/api/v1/caseload/")

    assert response.status_code == CASELOAD_EXPECTED[actor]
    if response.status_code == 200:
        couples = [entry["couple"] for entry in response.json()["results"]]
        mine = world.couple if actor == "therapist" else world.other_couple
        assert couples == [str(mine.pk)]


# --- the partner view (SPEC 5.6) ---------------------------------------------------------------


def test_a_therapist_reads_the_full_report(
    world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    body = client_for(world.therapist).get(f"/api/v1/reports/{report.pk}/").json()

    assert body["view"] == "full"
    assert (body["balance"], body["gap"], body["gap_trend"]) == ("one_sided", 40.0, "widening")
    assert body["less_engaged_partner"] == str(world.other_partner.pk)
    assert body["partners"][1] == {
        "partner": str(world.other_partner.pk),
        **FIGURES,
        "engagement_score": 40.0,
    }
    assert [f["code"] for f in body["flags"]] == ["engagement_gap_streak"]
    assert body["recommendations"] == [
        {"code": "assess_commitment", "partner": str(world.other_partner.pk)}
    ]
    # The balance partners may see, beside the full one (SPEC 5.6).
    shared = (body["shared_balance"], body["shared_gap"], body["shared_gap_trend"])
    assert shared == ("leaning", 20.0, "stable")


def test_a_partner_reads_their_own_figures_and_nothing_of_the_other_partner(
    world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    body = client_for(world.other_partner).get(f"/api/v1/reports/{report.pk}/").json()

    assert body["view"] == "partner"
    assert body["partners"] == [
        {"partner": str(world.partner.pk), **NO_FIGURES},
        # Own figures, without participation, and the own score computed without it.
        {
            "partner": str(world.other_partner.pk),
            **FIGURES,
            "participation": None,
            # Safety answers are never shown back, not even a count of one's own.
            "unsafe_days": None,
            "engagement_score": 30.0,
        },
    ]
    assert body["less_engaged_partner"] is None
    assert (body["shared_balance"], body["shared_gap"], body["shared_gap_trend"]) == (
        None,
        None,
        None,
    )
    assert (body["flags"], body["recommendations"]) == ([], [])
    assert (body["id"], body["revision"], body["week_start"]) == (str(report.pk), 1, "2026-11-16")


@pytest.mark.parametrize(
    ("see_balance", "partner_shares", "other_shares", "hold", "shown"),
    [
        (True, True, True, False, True),
        (False, True, True, False, False),
        (True, False, True, False, False),
        (True, True, False, False, False),
        # A safety hold changes nothing a partner reads (SPEC 1, "Safety hold").
        (True, True, True, True, True),
        (False, False, False, True, False),
    ],
)
def test_a_partner_sees_the_shared_balance_only_when_both_share_it_whatever_the_hold(
    see_balance: bool,
    partner_shares: bool,
    other_shares: bool,
    hold: bool,
    shown: bool,
    world: World,
    report: WeeklyReport,
    client_for: ClientFor,
) -> None:
    Couple.objects.filter(pk=world.couple.pk).update(
        partners_see_balance=see_balance, safety_hold=hold
    )
    memberships = Membership.objects.filter(couple=world.couple)
    memberships.filter(user=world.partner).update(shares_balance=partner_shares)
    memberships.filter(user=world.other_partner).update(shares_balance=other_shares)

    for path in (f"/api/v1/reports/{report.pk}/", "/api/v1/reports/"):
        body = client_for(world.partner).get(path).json()
        body = body["results"][0] if "results" in body else body
        balance = (body["balance"], body["gap"], body["gap_trend"])
        assert balance == (("leaning", 20.0, "stable") if shown else (None, None, None))
        assert body["less_engaged_partner"] is None
        assert body["flags"] == []
    therapist_view = client_for(world.therapist).get(f"/api/v1/reports/{report.pk}/").json()
    assert therapist_view["balance"] == "one_sided"


def test_a_former_partner_no_longer_reads_the_reports(
    world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    Membership.objects.filter(couple=world.couple, user=world.other_partner).update(
        left_at=dt.datetime(2026, 11, 24, tzinfo=UTC), partner_slot=None
    )

    response = client_for(world.other_partner).get(f"/api/v1/reports/{report.pk}/")

    assert response.status_code == 404


# --- filters, order and query counts -----------------------------------------------------------


def test_reports_are_listed_newest_week_first_and_filtered_inclusively(
    world: World, client_for: ClientFor
) -> None:
    for n in range(4):
        stored_report(
            world.couple, world.partner, world.other_partner, week=W - dt.timedelta(weeks=n)
        )
    stored_report(world.other_couple, world.outsider, world.outsider_partner)
    client = client_for(world.therapist)

    def weeks(**params: str) -> list[str]:
        response = client.get("/api/v1/reports/", params)
        assert response.status_code == 200, response.json()
        return [r["week_start"] for r in response.json()["results"]]

    assert weeks() == ["2026-11-16", "2026-11-09", "2026-11-02", "2026-10-26"]
    assert weeks(week_after="2026-11-02", week_before="2026-11-09") == ["2026-11-09", "2026-11-02"]
    assert weeks(week_start="2026-11-09") == ["2026-11-09"]
    assert weeks(couple=str(world.couple.pk)) == weeks()
    assert weeks(couple=str(world.other_couple.pk)) == []
    assert len(weeks(updated_since="2000-01-01T00:00:00Z")) == 4
    naive = client.get("/api/v1/reports/", {"updated_since": "2026-11-01T00:00:00"})
    assert naive.status_code == 400
    assert naive.json()["errors"][0]["attr"] == "updated_since"


def _many_reports(therapist: User, couples: int, weeks: int) -> None:
    for _ in range(couples):
        couple, a, b, _ = make_couple(therapist=therapist)
        for n in range(weeks):
            stored_report(couple, a, b, week=W - dt.timedelta(weeks=n))


@pytest.mark.parametrize("role", ["therapist", "partner"])
def test_a_page_of_reports_costs_the_same_queries_whatever_its_size(
    role: str, world: World, client_for: ClientFor
) -> None:
    _many_reports(world.therapist, couples=3, weeks=4)
    for n in range(6):
        stored_report(world.couple, world.partner, world.other_partner, week=W - dt.timedelta(n))
    client = client_for(getattr(world, role))
    # The first request also reads the caller's row into the authentication cache
    # (accounts/auth_cache.py): one query, whatever the page.
    assert client.get("/api/v1/reports/").status_code == 200

    counts = {}
    for size in (1, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/reports/", {"page_size": size})
        assert response.status_code == 200
        counts[size] = (len(queries), len(response.json()["results"]))

    expected_rows = 18 if role == "therapist" else 6
    assert counts[1][1] == 1
    assert counts[100][1] == expected_rows
    assert counts[1][0] == counts[100][0]


def test_the_caseload_costs_the_same_queries_however_many_couples(
    client_for: ClientFor,
) -> None:
    counts = []
    for couples in (2, 10):
        therapist: User = TherapistFactory.create()
        _many_reports(therapist, couples=couples, weeks=2)
        with CaptureQueriesContext(connection) as queries:
            response = client_for(therapist).get("/api/v1/caseload/")
        assert len(response.json()["results"]) == couples
        counts.append(len(queries))

    assert counts[0] == counts[1]


# --- the caseload order (SPEC 5.8) -------------------------------------------------------------


def test_the_caseload_lists_the_most_urgent_couples_first(client_for: ClientFor) -> None:
    therapist: User = TherapistFactory.create()

    def couple(name: str, **fields: Any) -> tuple[Couple, User, User]:
        c, a, b, _ = make_couple(therapist=therapist, name=name, **fields)
        return c, a, b

    couple("no report")
    quiet = couple("quiet")
    stored_report(*quiet, flags=[], gap=5.0)
    unkept = couple("unkept")
    stored_report(*unkept, flags=["commitments_unkept"], gap=80.0)
    small_streak = couple("streak, small gap")
    stored_report(*small_streak, flags=["low_engagement_streak"], gap=20.0)
    large_streak = couple("streak, large gap")
    stored_report(*large_streak, flags=["engagement_gap_streak", "commitments_unkept"], gap=60.0)
    no_gap_streak = couple("streak, no gap")
    stored_report(*no_gap_streak, flags=["low_engagement_streak"], gap=None)
    resentment = couple("resentment")
    stored_report(*resentment, flags=["rising_resentment"], gap=0.0)
    # An older report's flags do not count: the latest report decides.
    wellbeing = couple("wellbeing")
    stored_report(*wellbeing, flags=["wellbeing_decline"], gap=30.0)
    stored_report(*wellbeing, week=W - dt.timedelta(weeks=1), flags=[], gap=0.0)
    was_worse = couple("was worse")
    stored_report(*was_worse, week=W - dt.timedelta(weeks=1), flags=["wellbeing_decline"])
    stored_report(*was_worse, flags=[], gap=10.0)
    couple("hold", safety_hold=True)

    body = client_for(therapist).get("/api/v1/caseload/").json()

    assert [(e["name"], e["urgency"]) for e in body["results"]] == [
        ("hold", "safety_hold"),
        ("wellbeing", "wellbeing"),
        ("resentment", "wellbeing"),
        ("streak, large gap", "engagement"),
        ("streak, small gap", "engagement"),
        ("streak, no gap", "engagement"),
        ("unkept", "commitments"),
        ("was worse", "other"),
        ("quiet", "other"),
        ("no report", "no_report"),
    ]
    entry = next(e for e in body["results"] if e["name"] == "streak, large gap")
    couple_row, a, b = large_streak
    assert entry["couple"] == str(couple_row.pk)
    assert entry["safety_hold"] is False
    assert entry["partners"] == [
        {"id": str(a.pk), "display_name": a.display_name},
        {"id": str(b.pk), "display_name": b.display_name},
    ]
    assert entry["latest_report"] == {
        "id": str(WeeklyReport.objects.get(couple=couple_row).pk),
        "week_start": "2026-11-16",
        "revision": 1,
        "balance": "one_sided",
        "gap": 60.0,
        "gap_trend": "widening",
        "less_engaged_partner": str(b.pk),
        "flags": ["engagement_gap_streak", "commitments_unkept"],
    }
    assert body["results"][-1]["latest_report"] is None


# --- the week so far, and recomputation ------------------------------------------------------


def test_the_week_so_far_is_computed_on_request_and_never_stored(client_for: ClientFor) -> None:
    couple, a, b, therapist = couple_in(
        "Europe/Berlin", created_at=dt.datetime(2026, 1, 1, tzinfo=UTC)
    )
    monday = dt.date(2026, 11, 23)
    session(
        couple, dt.datetime(2026, 11, 24, 17, tzinfo=UTC), {a: ("attended", 3), b: ("absent", None)}
    )
    checkin(couple, a, monday, "couple", mood=4)
    checkin(couple, a, monday + dt.timedelta(days=1), "private", mood=1)

    with time_machine.travel(NOW, tick=False):
        full = client_for(therapist).get("/api/v1/reports/current/", {"couple": str(couple.pk)})
        own = client_for(a).get("/api/v1/reports/current/", {"couple": str(couple.pk)})

    assert full.status_code == 200
    body = full.json()
    assert (body["id"], body["revision"], body["week_start"]) == (None, None, "2026-11-23")
    assert body["computed_at"] == "2026-11-25T12:00:00.000Z"
    assert body["partners"][0]["checkin_days"] == 2
    assert body["partners"][0]["mood_avg"] == 4.0
    assert body["partners"][1]["attendance_rate"] == 0.0
    assert own.json()["partners"][1] == {"partner": str(b.pk), **NO_FIGURES}
    assert WeeklyReport.objects.count() == 0


def test_the_week_so_far_of_a_paused_couple_is_not_found(client_for: ClientFor) -> None:
    couple, _, _, therapist = couple_in(created_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
    status_change(couple, Couple.Status.PAUSED, dt.datetime(2026, 11, 24, tzinfo=UTC))

    with time_machine.travel(NOW, tick=False):
        response = client_for(therapist).get("/api/v1/reports/current/", {"couple": str(couple.pk)})

    assert response.status_code == 404


def test_the_week_so_far_needs_a_couple(world: World, client_for: ClientFor) -> None:
    client = client_for(world.therapist)

    assert client.get("/api/v1/reports/current/").json()["errors"][0]["attr"] == "couple"
    assert client.get("/api/v1/reports/current/", {"couple": "nope"}).status_code == 400


def test_a_recomputation_queues_the_week_and_the_report_appears(
    client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    # No check-in target: the score is attendance and participation alone.
    couple, a, b, therapist = couple_in(
        created_at=dt.datetime(2026, 1, 1, tzinfo=UTC), checkin_target_per_week=0
    )
    session(
        couple, dt.datetime(2026, 11, 17, 17, tzinfo=UTC), {a: ("attended", 3), b: ("absent", None)}
    )

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client_for(therapist).post(
            "/api/v1/reports/recompute/", {"couple": str(couple.pk), "week_start": "2026-11-16"}
        )

    assert response.status_code == 202
    assert response.json() == {"couple": str(couple.pk), "week_start": "2026-11-16"}
    report = WeeklyReport.objects.get(couple=couple)
    assert (report.week_start, report.balance, report.gap) == (W, "one_sided", 100.0)


@pytest.mark.parametrize(
    ("week_start", "code"),
    [("2026-11-17", "not_a_monday"), ("2026-11-23", "week_not_ended"), ("soon", "invalid")],
)
def test_a_recomputation_needs_a_monday_of_a_week_that_has_ended(
    week_start: str, code: str, world: World, client_for: ClientFor
) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(world.therapist).post(
            "/api/v1/reports/recompute/", {"couple": str(world.couple.pk), "week_start": week_start}
        )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "week_start"
    assert response.json()["errors"][0]["code"] == code


def test_reading_the_caseload_leaves_a_trace_in_the_audit_log(
    world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    from engagement.models import AuditEvent

    response = client_for(world.therapist).get("/api/v1/caseload/")

    assert response.status_code == 200
    [event] = AuditEvent.objects.filter(actor=world.therapist)
    assert (event.action, event.object_type, event.couple_id) == (
        "caseload.read",
        "couple",
        world.couple.pk,
    )
    assert event.object_ids == [str(world.couple.pk)]
    # Partners are refused, and leave no trace.
    assert client_for(world.partner).get("/api/v1/caseload/").status_code == 403
    assert AuditEvent.objects.count() == 1


def test_the_list_and_the_week_so_far_carry_the_callers_etag(
    world: World, report: WeeklyReport, client_for: ClientFor
) -> None:
    with time_machine.travel(NOW, tick=False):
        for path, params in (
            ("/api/v1/reports/", {}),
            ("/api/v1/reports/current/", {"couple": str(world.couple.pk)}),
        ):
            client = client_for(world.partner)
            first = client.get(path, params)
            etag = first.headers["ETag"]
            again = client.get(path, params, HTTP_IF_NONE_MATCH=f"W/{etag}")
            assert (again.status_code, again.headers["ETag"]) == (304, etag)
            # Two readers with different views never share a tag.
            assert client_for(world.therapist).get(path, params).headers["ETag"] != etag


def test_a_partner_who_joined_this_week_reads_no_week_so_far(
    world: World, client_for: ClientFor
) -> None:
    Membership.objects.filter(couple=world.couple, user=world.other_partner).update(
        left_at=dt.datetime(2026, 11, 24, tzinfo=UTC), partner_slot=None
    )
    newcomer: User = TherapistFactory.create(is_therapist=False)
    Membership.objects.create(
        couple=world.couple,
        user=newcomer,
        role="partner",
        partner_slot=2,
        joined_at=dt.datetime(2026, 11, 24, 12, tzinfo=UTC),
    )
    Couple.objects.filter(pk=world.couple.pk).update(created_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
    Membership.objects.filter(
        couple=world.couple, user__in=[world.partner, world.therapist]
    ).update(joined_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
    params = {"couple": str(world.couple.pk)}
    with time_machine.travel(NOW, tick=False):
        # The week across a change of partners is the therapist's alone (SPEC 1).
        assert client_for(newcomer).get("/api/v1/reports/current/", params).status_code == 404
        assert client_for(world.partner).get("/api/v1/reports/current/", params).status_code == 404
        therapist = client_for(world.therapist).get("/api/v1/reports/current/", params)
        assert therapist.status_code == 200
