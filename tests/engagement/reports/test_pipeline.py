"""The report pipeline: upserts and revisions, late data, paused weeks, the hourly schedule."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.celery import app as celery_app
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.reports import aggregates
from engagement.reports import pipeline
from engagement.reports.pipeline import RunSummary
from engagement.reports.pipeline import compute_reports
from engagement.reports.pipeline import reports_due
from engagement.reports.staleness import mark_stale
from engagement.reports.tasks import compute_report_chunk
from engagement.reports.tasks import queue_chunks
from engagement.reports.tasks import queue_chunks_as_found
from engagement.reports.tasks import schedule_weekly_reports
from tests.engagement.dates import LONG_AGO
from tests.engagement.dates import YEAR_END
from tests.engagement.dates import W
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import commitment
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import partner_entry
from tests.engagement.reports.builders import session
from tests.engagement.reports.builders import status_change

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def weeks_before(n: int) -> dt.date:
    return W - dt.timedelta(weeks=n)


def at(day: dt.date, hour: int = 18, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(tz))


def one_sided_couple(tz: str = "UTC") -> tuple[Couple, Any, Any]:
    """Six weeks of one partner doing everything and the other nothing."""
    couple, a, b, _ = couple_in(tz, created_at=LONG_AGO)
    for n in range(7):
        week = weeks_before(n)
        session(
            couple,
            at(week + dt.timedelta(days=1), tz=tz),
            {a: ("attended", 3), b: ("absent", None)},
        )
        for day in range(4):
            checkin(couple, a, week + dt.timedelta(days=day), "therapist", wellbeing=4)
        commitment(couple, a, week + dt.timedelta(days=2), "kept")
        commitment(couple, b, week + dt.timedelta(days=2), "missed")
    return couple, a, b


def report_of(couple: Couple, week: dt.date = W) -> WeeklyReport:
    return WeeklyReport.objects.get(couple=couple, week_start=week)


# --- upserts and revisions ---------------------------------------------------------------------


def test_computing_a_report_twice_leaves_one_report_with_the_same_revision() -> None:
    couple, _, b = one_sided_couple()

    first = compute_reports({couple.pk: [W]}, now=YEAR_END)
    stored = report_of(couple)
    second = compute_reports({couple.pk: [W]}, now=YEAR_END + dt.timedelta(hours=1))

    assert first == RunSummary(created=1)
    assert second == RunSummary(unchanged=1)
    again = report_of(couple)
    assert WeeklyReport.objects.filter(couple=couple).count() == 1
    assert (again.revision, again.computed_at, again.updated_at) == (
        1,
        stored.computed_at,
        stored.updated_at,
    )
    assert (again.balance, again.gap, again.less_engaged_partner_id) == ("one_sided", 100.0, b.pk)
    assert [f["code"] for f in again.flags] == [
        "low_engagement_streak",
        "engagement_gap_streak",
        "commitments_unkept",
    ]


def test_a_changed_result_raises_the_revision_by_one() -> None:
    couple, _, b = one_sided_couple()
    compute_reports({couple.pk: [W]}, now=YEAR_END)
    session(couple, at(W + dt.timedelta(days=3)), {b: ("attended", 2)}, focus_partner=b)

    summary = compute_reports({couple.pk: [W]}, now=YEAR_END + dt.timedelta(hours=1))

    report = report_of(couple)
    assert summary == RunSummary(updated=1)
    assert report.revision == 2
    assert report.computed_at == YEAR_END + dt.timedelta(hours=1)
    assert report.partners[1]["sessions_attended"] == 1


def test_a_report_is_stored_exactly_as_scoring_computes_it() -> None:
    couple, a, b = one_sided_couple()

    compute_reports({couple.pk: [W]}, now=YEAR_END)

    report = report_of(couple)
    assert report.methodology == "v1.1"
    assert report.gap_trend == "stable"
    assert report.partners[0] == partner_entry(a, wellbeing_avg=4.0)
    assert report.recommendations == [
        {"code": "assess_commitment", "partner": str(b.pk)},
        {"code": "consider_individual_sessions", "partner": str(b.pk)},
        {"code": "support_engaged_partner", "partner": str(a.pk)},
        {"code": "revisit_commitments", "partner": str(b.pk)},
    ]


def test_the_report_of_a_week_does_not_depend_on_the_order_weeks_were_computed_in() -> None:
    couple, _, _ = one_sided_couple()
    other, _, _ = one_sided_couple()
    for n in (2, 1, 0):
        compute_reports({couple.pk: [weeks_before(n)]}, now=YEAR_END)

    compute_reports({other.pk: [W, weeks_before(2), weeks_before(1)]}, now=YEAR_END)

    for n in (0, 1, 2):
        mine, theirs = report_of(couple, weeks_before(n)), report_of(other, weeks_before(n))
        assert (mine.balance, mine.gap, mine.gap_trend) == (
            theirs.balance,
            theirs.gap,
            theirs.gap_trend,
        )
        assert [f["code"] for f in mine.flags] == [f["code"] for f in theirs.flags]


@pytest.mark.parametrize("n_couples", [2, 20])
def test_a_chunk_takes_twenty_two_queries_however_many_couples_it_holds(
    n_couples: int, django_assert_num_queries: Callable[..., Any]
) -> None:
    couples = []
    for _ in range(n_couples):
        couple, a, b, _ = couple_in(created_at=LONG_AGO)
        session(couple, at(W + dt.timedelta(days=1)), {a: ("attended", 3), b: ("late", 1)})
        checkin(couple, a, W, wellbeing=3)
        commitment(couple, b, W, "missed")
        couples.append(couple)

    # Existing reports, ten aggregation queries, one upsert; then each reader's values: the
    # reports read back, the couples' sharing (two), which weeks partners may read (couples,
    # partnerships, three kinds of first records), the reader states, one upsert of them.
    with django_assert_num_queries(22):
        summary = pipeline.compute_reports_for_chunk([c.pk for c in couples], W, now=YEAR_END)

    assert summary == RunSummary(created=n_couples)
    assert WeeklyReport.objects.count() == n_couples


# --- weeks without a report -------------------------------------------------------------------


def test_paused_and_ended_weeks_get_no_report() -> None:
    couple, _, _ = one_sided_couple()
    status_change(couple, Couple.Status.PAUSED, at(weeks_before(2) + dt.timedelta(days=3)))
    status_change(couple, Couple.Status.ACTIVE, at(weeks_before(1) + dt.timedelta(days=4)))
    status_change(couple, Couple.Status.ENDED, at(W + dt.timedelta(days=2)))
    weeks = [weeks_before(n) for n in range(4)]

    summary = compute_reports({couple.pk: weeks}, now=YEAR_END)

    assert summary == RunSummary(created=1, skipped=3)
    assert list(WeeklyReport.objects.values_list("week_start", flat=True)) == [weeks_before(3)]


def test_a_week_that_has_not_ended_gets_no_report_yet() -> None:
    couple, _, _ = one_sided_couple("Asia/Tokyo")
    # The week W ends in Tokyo on Sunday 2026-11-22 at 15:00 UTC.
    just_before = dt.datetime(2026, 11, 22, 14, 59, tzinfo=UTC)

    assert compute_reports({couple.pk: [W]}, now=just_before) == RunSummary(pending=1)
    assert compute_reports({couple.pk: [W]}, now=just_before + dt.timedelta(minutes=1)) == (
        RunSummary(created=1)
    )


# --- late data -----------------------------------------------------------------------------------


def test_late_data_marks_its_week_and_the_five_after_stale_in_one_update(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    couple, _, _ = one_sided_couple()
    weeks = [weeks_before(n) for n in range(8)]
    compute_reports({couple.pk: weeks}, now=YEAR_END)
    other, _, _ = one_sided_couple()
    compute_reports({other.pk: [W]}, now=YEAR_END)

    with django_assert_num_queries(1):
        marked = mark_stale(couple_id=couple.pk, dates=[weeks_before(5) + dt.timedelta(days=6)])

    assert marked == 6
    stale = set(WeeklyReport.objects.filter(stale=True).values_list("week_start", flat=True))
    assert stale == {weeks_before(n) for n in range(6)}
    assert not report_of(other).stale


def test_marking_stale_leaves_updated_at_alone() -> None:
    couple, _, _ = one_sided_couple()
    compute_reports({couple.pk: [W]}, now=YEAR_END)
    before = report_of(couple).updated_at

    mark_stale(couple_id=couple.pk, dates=[W])

    assert report_of(couple).updated_at == before


def test_the_next_run_recomputes_stale_reports_and_raises_only_changed_revisions() -> None:
    couple, _, b = one_sided_couple()
    weeks = [weeks_before(n) for n in range(6)]
    compute_reports({couple.pk: weeks}, now=YEAR_END)
    # b back-fills a check-in in w-5: that week's figures change, and what looks back at it.
    late = weeks_before(5) + dt.timedelta(days=4)
    checkin(couple, b, late, "private", mood=1)
    mark_stale(couple_id=couple.pk, dates=[late])

    # Monday after W: W is the last completed week, and it is reported (stale, though).
    run_at = dt.datetime(2026, 11, 23, 12, tzinfo=UTC)
    with time_machine.travel(run_at, tick=False):
        due = reports_due()
        queued = queue_chunks(due)

    assert due == {week: {couple.pk} for week in weeks}
    assert queued == 6
    reports = {r.week_start: r for r in WeeklyReport.objects.filter(couple=couple)}
    assert not any(r.stale for r in reports.values())
    assert reports[weeks_before(5)].revision == 2
    assert reports[weeks_before(5)].partners[1]["checkin_days"] == 1
    # The gap of w-5 changed, so do the gap-streak evidence of w-4 and w-3 (w-2 .. w);
    # from w-2 on, nothing the reports show looks at w-5 any more.
    revisions = {n: reports[weeks_before(n)].revision for n in range(6)}
    assert revisions == {5: 2, 4: 2, 3: 2, 2: 1, 1: 1, 0: 1}


def test_late_data_landing_while_a_run_reads_keeps_the_report_stale() -> None:
    couple, _, b = one_sided_couple()
    compute_reports({couple.pk: [W]}, now=YEAR_END)
    mark_stale(couple_id=couple.pk, dates=[W])
    read = aggregates.couple_histories

    def read_then_late_data(*args: Any, **kwargs: Any) -> Any:
        histories = read(*args, **kwargs)
        checkin(couple, b, W, "couple", mood=2)  # after the run read the week
        mark_stale(couple_id=couple.pk, dates=[W])
        return histories

    with mock.patch.object(aggregates, "couple_histories", read_then_late_data):
        compute_reports({couple.pk: [W]}, now=YEAR_END)

    assert report_of(couple).stale
    compute_reports({couple.pk: [W]}, now=YEAR_END)
    assert not report_of(couple).stale
    assert report_of(couple).partners[1]["checkin_days"] == 1


# --- the hourly schedule ---------------------------------------------------------------------

# Monday 2026-11-23 02:00 UTC: Tokyo (11:00) and Berlin (03:00) have finished the week of
# 2026-11-16; Chicago (Sunday 20:00) has not.
MONDAY_2AM_UTC = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def three_timezones() -> dict[str, Couple]:
    couples = {
        tz: one_sided_couple(tz)[0] for tz in ("Asia/Tokyo", "Europe/Berlin", "America/Chicago")
    }
    # Chicago's own last completed week is already reported.
    compute_reports({couples["America/Chicago"].pk: [weeks_before(1)]}, now=MONDAY_2AM_UTC)
    return couples


def reported(week: dt.date) -> set[str]:
    return set(
        WeeklyReport.objects.filter(week_start=week).values_list("couple__timezone", flat=True)
    )


def test_the_hourly_task_reports_the_couples_whose_week_has_ended_in_their_timezone(
    three_timezones: dict[str, Couple],
) -> None:
    with time_machine.travel(MONDAY_2AM_UTC, tick=False):
        schedule_weekly_reports.delay()

    assert reported(W) == {"Asia/Tokyo", "Europe/Berlin"}

    # Chicago's Monday begins at 06:00 UTC.
    with time_machine.travel(MONDAY_2AM_UTC + dt.timedelta(hours=4, minutes=5), tick=False):
        schedule_weekly_reports.delay()

    assert reported(W) == {"Asia/Tokyo", "Europe/Berlin", "America/Chicago"}
    assert WeeklyReport.objects.filter(week_start=W, revision=1).count() == 3


def test_the_hourly_task_twice_leaves_one_report_and_queues_nothing_new(
    three_timezones: dict[str, Couple],
) -> None:
    with time_machine.travel(MONDAY_2AM_UTC, tick=False):
        first = schedule_weekly_reports.delay().get()
        second = schedule_weekly_reports.delay().get()

    assert (first, second) == (1, 0)
    assert WeeklyReport.objects.filter(week_start=W).count() == 2


def test_the_schedule_leaves_out_couples_that_get_no_report(
    three_timezones: dict[str, Couple],
) -> None:
    paused, _, _ = one_sided_couple("Asia/Tokyo")
    status_change(paused, Couple.Status.PAUSED, at(W + dt.timedelta(days=2)))
    paused_then_resumed, _, _ = one_sided_couple("Asia/Tokyo")
    status_change(paused_then_resumed, Couple.Status.PAUSED, at(W + dt.timedelta(days=2)))
    status_change(paused_then_resumed, Couple.Status.ACTIVE, at(W + dt.timedelta(days=3)))
    ended_after, _, _ = one_sided_couple("Asia/Tokyo")
    status_change(ended_after, Couple.Status.ENDED, MONDAY_2AM_UTC - dt.timedelta(minutes=30))
    couple_in("Asia/Tokyo", created_at=MONDAY_2AM_UTC - dt.timedelta(hours=1))  # too new
    alone, _, _, _ = couple_in("Asia/Tokyo", created_at=LONG_AGO)
    Membership.objects.filter(couple=alone, role="partner").delete()
    left, _, _, _ = couple_in("Asia/Tokyo", created_at=LONG_AGO)
    Membership.objects.filter(couple=left, role="partner").update(
        left_at=at(W - dt.timedelta(days=3)), partner_slot=None
    )
    paused_long_ago, _, _ = one_sided_couple("Asia/Tokyo")
    status_change(paused_long_ago, Couple.Status.PAUSED, at(W - dt.timedelta(weeks=8)))
    status_change(paused_long_ago, Couple.Status.ACTIVE, at(W - dt.timedelta(weeks=7)))

    due = reports_due(now=MONDAY_2AM_UTC)

    tokyo = three_timezones["Asia/Tokyo"]
    berlin = three_timezones["Europe/Berlin"]
    # The couple that ended this Monday still gets the report of the week before.
    assert due == {W: {tokyo.pk, berlin.pk, ended_after.pk, paused_long_ago.pk}}


def test_chunks_follow_the_chunk_size_setting(settings: Any) -> None:
    settings.REPORTS_CHUNK_SIZE = 2
    couples = [one_sided_couple()[0] for _ in range(5)]
    sent: list[tuple[list[str], str]] = []

    with mock.patch.object(
        compute_report_chunk, "delay", lambda ids, week: sent.append((ids, week))
    ):
        queued = queue_chunks({W: {c.pk for c in couples}})

    assert queued == 3
    assert [len(ids) for ids, _ in sent] == [2, 2, 1]
    assert {week for _, week in sent} == {W.isoformat()}
    assert sorted(i for ids, _ in sent for i in ids) == sorted(str(c.pk) for c in couples)


def test_the_schedule_queues_each_chunk_as_soon_as_it_is_full_and_each_couple_once() -> None:
    a, b, c, d = (str(uuid.UUID(str(i) * 32)) for i in range(1, 5))
    ids = {x: uuid.UUID(x) for x in (a, b, c, d)}
    sent: list[tuple[list[str], str]] = []

    def parts() -> Any:
        yield W, {ids[a], ids[b], ids[c]}
        # The first chunk is on its way before the planner looks any further.
        assert sent == [([a, b], W.isoformat())]
        yield W, {ids[c], ids[d]}
        yield weeks_before(1), {ids[a]}

    with mock.patch.object(
        compute_report_chunk, "delay", lambda ids, week: sent.append((list(ids), week))
    ):
        queued = queue_chunks_as_found(parts(), chunk_size=2)

    assert queued == 3
    assert sent == [
        ([a, b], W.isoformat()),
        ([c, d], W.isoformat()),
        ([a], weeks_before(1).isoformat()),
    ]


def test_report_tasks_go_to_the_reports_queue_and_beat_runs_the_schedule_hourly() -> None:
    for name in (schedule_weekly_reports.name, compute_report_chunk.name):
        route = celery_app.amqp.router.route({}, name)
        assert route["queue"].name == "reports"
    beat = celery_app.conf.beat_schedule["weekly-reports"]
    assert beat["task"] == "engagement.reports.tasks.schedule_weekly_reports"
    assert beat["schedule"].minute == {5}
    assert beat["schedule"].hour == set(range(24))
    for task in (schedule_weekly_reports, compute_report_chunk):
        assert task.acks_late
        assert task.reject_on_worker_lost
        assert task.max_retries == 5


def test_the_planner_reads_in_a_query_per_timezone_in_use() -> None:
    for tz in ("Asia/Tokyo", "Europe/Berlin", "UTC"):
        for _ in range(3):
            couple_in(tz, created_at=LONG_AGO)

    with CaptureQueriesContext(connection) as queries:
        due = reports_due(now=MONDAY_2AM_UTC)

    # Stale reports, timezones in use, one per timezone, one for onboarding history (weeks
    # before creation): couples never paused and whose partners never left need nothing more.
    assert len(queries) == 1 + 1 + 3 + 1
    assert {week: len(ids) for week, ids in due.items()} == {W: 9}

    once_paused, _, _, _ = couple_in("UTC", created_at=LONG_AGO)
    status_change(once_paused, Couple.Status.PAUSED, at(W - dt.timedelta(weeks=8)))
    status_change(once_paused, Couple.Status.ACTIVE, at(W - dt.timedelta(weeks=7)))

    with CaptureQueriesContext(connection) as queries:
        due = reports_due(now=MONDAY_2AM_UTC)

    # Then three per week for the couples the aggregation layer must look at.
    assert len(queries) == 1 + 1 + 3 + 1 + 3
    assert {week: len(ids) for week, ids in due.items()} == {W: 10}
