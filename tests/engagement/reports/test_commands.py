"""`compute_reports` and `seed_demo`: what operators and `make run` rely on."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError
from django.core.management import call_command

from engagement.management.commands.seed_demo import DEMO_COUPLES
from engagement.models import Couple
from engagement.models import WeeklyReport
from engagement.reports.staleness import mark_stale
from tests.engagement.dates import LONG_AGO
from tests.engagement.dates import NOW
from tests.engagement.dates import W
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import session
from tests.engagement.reports.builders import status_change

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# Wednesday after W: W is every couple's last completed week, whatever its timezone.


def run(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("compute_reports", *args, stdout=out)
    return out.getvalue()


def busy_couple(tz: str = "UTC") -> Couple:
    couple, a, b, _ = couple_in(tz, created_at=LONG_AGO)
    for n in range(3):
        starts_at = dt.datetime.combine(W - dt.timedelta(weeks=n, days=-1), dt.time(18), UTC)
        session(couple, starts_at, {a: ("attended", 3), b: ("absent", None)})
    return couple


# --- compute_reports -------------------------------------------------------------------------


def test_by_default_it_computes_each_couples_last_week_and_says_what_it_did() -> None:
    couples = [busy_couple("Asia/Tokyo"), busy_couple("America/Chicago")]

    first = run()
    second = run()

    assert "Reports: 2 created, 0 updated (revision + 1), 0 unchanged" in first
    assert "0 created, 0 updated (revision + 1), 2 unchanged" in second
    assert {r.week_start for r in WeeklyReport.objects.all()} == {W}
    assert WeeklyReport.objects.filter(couple__in=couples).count() == 2


def test_by_default_it_also_recomputes_stale_reports() -> None:
    couple = busy_couple()
    run("--week", "2026-11-09")
    run()
    mark_stale(couple_id=couple.pk, dates=[dt.date(2026, 11, 10)])

    output = run()

    assert "0 created, 0 updated (revision + 1), 2 unchanged" in output
    assert not WeeklyReport.objects.filter(stale=True).exists()


def test_a_paused_couple_is_skipped_and_counted() -> None:
    busy_couple()
    paused = busy_couple()
    status_change(paused, Couple.Status.PAUSED, dt.datetime(2026, 11, 18, tzinfo=UTC))

    output = run()

    assert "1 created" in output
    assert "1 skipped (paused, ended, before the couple existed or no partner)" in output


def test_one_week_of_one_couple() -> None:
    couple = busy_couple()
    busy_couple()

    output = run("--week", "2026-11-09", "--couple", str(couple.pk))

    assert "1 created" in output
    assert list(WeeklyReport.objects.values_list("couple_id", "week_start")) == [
        (couple.pk, dt.date(2026, 11, 9))
    ]


def test_a_week_that_has_not_ended_is_left_for_later() -> None:
    busy_couple()

    assert "1 not ended yet" in run("--week", "2026-11-23")
    assert not WeeklyReport.objects.exists()


def test_async_hands_the_chunks_to_the_workers() -> None:
    busy_couple()
    busy_couple("Asia/Tokyo")

    output = run("--async")

    assert "Queued 1 chunks (2 couple-weeks) on the reports queue." in output
    # Tests run tasks eagerly: the workers' part has happened.
    assert WeeklyReport.objects.filter(week_start=W).count() == 2


@pytest.mark.parametrize(
    "args",
    [
        ("--week", "2026-11-17"),
        ("--week", "last week"),
        ("--couple", "nobody"),
        ("--couple", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_bad_arguments_are_refused(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        run(*args)


# --- seed_demo --------------------------------------------------------------------------------


def seed() -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def latest(name: str) -> WeeklyReport:
    return WeeklyReport.objects.filter(couple__name=name).latest("week_start")


def test_seed_demo_gives_each_pattern_eight_weeks_of_reports() -> None:
    output = seed()

    assert "reports: 56 created" in output
    for demo in DEMO_COUPLES:
        weeks = WeeklyReport.objects.filter(couple__name=demo.name).values_list(
            "week_start", flat=True
        )
        assert sorted(weeks) == [W - dt.timedelta(weeks=n) for n in range(7, -1, -1)]
    assert latest("A & B").balance == "balanced"
    assert latest("C & D").balance == "leaning"
    one_sided = latest("E & F")
    assert (one_sided.balance, one_sided.gap_trend) == ("one_sided", "widening")
    assert {f["code"] for f in one_sided.flags} >= {"engagement_gap_streak", "wellbeing_decline"}
    assert [f["code"] for f in latest("G & H").flags] == ["rising_resentment"]
    broken = latest("I & J")
    assert [f["code"] for f in broken.flags] == ["commitments_unkept"]
    assert broken.flags[0]["evidence"]["missed_renewals_of_missed"] == 1
    split = latest("K & L")
    assert [(f["code"], f["evidence"]["sessions_below"]) for f in split.flags] == [
        ("split_alliance", 3)
    ]
    assert [p["alliance"] for p in split.partners] == [0.95, 0.725]
    assert [r["code"] for r in split.recommendations] == ["check_alliance"]
    mismatch = latest("M & N")
    assert [f["code"] for f in mismatch.flags] == ["goal_mismatch"]
    assert sorted(mismatch.flags[0]["evidence"]["goals"].values()) == ["decide", "work_on_it"]
    assert [r["code"] for r in mismatch.recommendations] == ["discernment_conversation"]
    # Ben's `couple` away days, two weeks before: the target pro-rated, shared too.
    away_week = WeeklyReport.objects.get(couple__name="A & B", week_start=W - dt.timedelta(weeks=2))
    assert [p["away_days"] for p in away_week.partners] == [0, 3]
    assert [v["shared_away_days"] for v in away_week.partner_views] == [0, 3]


def test_seed_demo_twice_changes_nothing() -> None:
    seed()
    counts = {"reports": WeeklyReport.objects.count(), "couples": Couple.objects.count()}
    revisions = dict(WeeklyReport.objects.values_list("id", "revision"))

    output = seed()

    assert "History: 0 couple(s)" in output
    assert "reports: 0 created, 0 updated, 56 unchanged" in output
    assert {"reports": WeeklyReport.objects.count(), "couples": Couple.objects.count()} == counts
    assert dict(WeeklyReport.objects.values_list("id", "revision")) == revisions


def test_seed_demo_a_week_later_ends_the_history_with_the_new_last_week() -> None:
    seed()
    out = StringIO()
    with time_machine.travel(NOW + dt.timedelta(weeks=1), tick=False):
        call_command("seed_demo", stdout=out)

    assert "History: 7 couple(s)" in out.getvalue()
    assert latest("E & F").week_start == W + dt.timedelta(weeks=1)
    assert WeeklyReport.objects.filter(couple__name="E & F").count() == 8
