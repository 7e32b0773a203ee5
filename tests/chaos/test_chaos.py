"""Chaos: reports and digests of 2,000 couples through killed workers and a crashed Redis."""

# How it runs, what it checks and its figures: docs/operations.md, "Chaos test".

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from config.celery import app as celery_app
from config.tasks import HEARTBEAT_CACHE_KEY
from engagement.digests import delivery
from engagement.digests import pipeline as digests
from engagement.digests import schedule
from engagement.models import Couple
from engagement.models import DigestDelivery
from engagement.models import WeeklyReport
from engagement.reports import pipeline
from engagement.reports.weeks import last_completed_week
from engagement.reports.weeks import local_week_start
from engagement.synthetic import generate
from tests.chaos.stack import ROOT
from tests.chaos.stack import Beat
from tests.chaos.stack import MailSink
from tests.chaos.stack import RedisServer
from tests.chaos.stack import Worker
from tests.chaos.stack import task_events
from tests.chaos.stack import wait_for
from tests.conftest import THROUGH_THE_BROKER
from tests.processes import production_process_env

pytestmark = THROUGH_THE_BROKER

COUPLES = 2000
WEEKS = 3  # the week reported has two weeks of history before it
SEED = 424242
REPORTS_CHUNK_SIZE = 100  # 20 chunks: plenty to interrupt
OPTED_OUT = 25  # partners with weekly_digest off: they must get nothing
UNVERIFIED = 25  # partners without a verified address: likewise
SCHEDULE_REPORTS = "engagement.reports.tasks.schedule_weekly_reports"
SEND_DUE_DIGESTS = "engagement.digests.tasks.send_due_digests"
COMPUTE_REPORT_CHUNK = "engagement.reports.tasks.compute_report_chunk"
SEND_DIGEST_CHUNK = "engagement.digests.tasks.send_digest_chunk"
KILL_ATTEMPTS = 3  # a kill that interrupted nothing is repeated, at most this many times in all
Status = DigestDelivery.Status


@dataclass
class Figures:
    """What a run did, printed as one JSON line (`make chaos` shows it; docs quote it)."""

    couples: int = 0
    week: str = ""
    reports: int = 0
    report_revisions_above_1: int = 0
    opted_in_users: int = 0
    digests_in_sink: int = 0
    worker_kills: int = 0  # the whole process group, SIGKILL
    pool_process_kills: int = 0  # one pool process, SIGKILL; its parent lives on
    redis_restarts: int = 0
    reports_done_at_kill: int = 0
    digests_sent_at_redis_crash: int = 0
    digests_sent_at_kill: int = 0
    messages_lost_with_redis: int = 0  # queued or unacknowledged in Redis when it crashed
    beat_report_reruns: int = 0  # during recovery, after the one right after the crash
    beat_digest_reruns: int = 0
    report_chunks_planned: int = 0
    report_chunks_queued_by_reruns: int = 0
    digests_queued_by_reruns: int = 0  # users a rerun found owed a digest
    report_chunks_finished: int = 0  # by every worker, the killed ones included
    report_outcomes: dict[str, int] = field(default_factory=dict)  # summed over chunks
    digest_chunks_finished: int = 0
    digest_outcomes: dict[str, int] = field(default_factory=dict)
    tasks_redelivered: int = 0  # received twice: requeued when their pool process died
    # What each kill interrupted (each kill is repeated, a bounded number of times, until it
    # interrupts something): tasks the killed worker had received and never finished ...
    tasks_interrupted_by_report_kill: int = 0
    tasks_interrupted_by_digest_kill: int = 0
    # ... and claims it held: sends left in doubt, released later as "outcome unknown".
    claims_left_by_digest_kill: int = 0
    kill_attempts: dict[str, int] = field(default_factory=dict)
    beat_heartbeat_after_crash: str = ""  # when the worker last ran the real beat's heartbeat
    outcome_unknown: int = 0  # claims of killed workers: looked up in the sink by Message-ID
    outcome_unknown_delivered: int = 0  # found there: never sent again
    outcome_unknown_resent: int = 0  # not there: set back to pending, sent by the operator
    seconds: dict[str, float] = field(default_factory=dict)


def _one_timezone(now: dt.datetime) -> str:
    """A timezone of the synthetic set whose week does not turn within the next two hours.

    Every couple lives in it, so 'the week' is the same for every couple, its partners and
    their therapist whenever CI runs (timezones are test_aggregates.py's subject, not this).
    """
    for name in generate.TIMEZONES:
        if local_week_start(name, now + dt.timedelta(hours=2)) == local_week_start(name, now):
            return name
    raise AssertionError("every synthetic timezone turns its week within two hours")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[RedisServer, Worker, MailSink, Beat]]:
    """A private Redis and an SMTP sink, running; a worker on them, to start (production
    settings, the test database, small report chunks)."""
    if shutil.which("redis-server") is None:
        reason = "the chaos test needs the redis-server binary (Debian package redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    broker = RedisServer(tmp_path)
    sink = MailSink(tmp_path / "sink.jsonl")
    broker.start()
    sink.start()
    env = production_process_env(
        redis_url=broker.url,
        ALLOWED_HOSTS="127.0.0.1",
        EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
        REPORTS_CHUNK_SIZE=str(REPORTS_CHUNK_SIZE),
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="INFO",
    )
    worker = Worker(env, tmp_path)
    # A real beat beside the test's own sends, on production's schedule: its heartbeat (every
    # 3 s here) must keep reaching the worker through the kills and the Redis crash, and its
    # digest and report runs, should the clock reach them mid-test, must double nothing.
    beat = Beat(env | {"HEARTBEAT_INTERVAL_SECONDS": "3"}, tmp_path)
    try:
        yield broker, worker, sink, beat
    finally:
        beat.stop()
        worker.stop()
        broker.stop()
        sink.stop()


class Run:
    """The chaos run: what the test sends, kills and checks, and the figures it keeps."""

    def __init__(self, broker: RedisServer, worker: Worker, sink: MailSink) -> None:
        self.broker, self.worker, self.sink = broker, worker, sink
        self.figures = Figures()
        self.started = time.monotonic()
        self.week = dt.date.min

    def lap(self, name: str) -> None:
        self.figures.seconds[name] = round(time.monotonic() - self.started, 1)

    def beat(self, task: str) -> None:
        """What beat does on its schedule: send a periodic task through the broker."""
        with celery_app.connection_for_write(self.broker.url) as connection:
            celery_app.send_task(task, connection=connection)

    def reports(self) -> int:
        return WeeklyReport.objects.filter(week_start=self.week).count()

    def digests_owed(self) -> int:
        """Opted-in users whose digest of the week is not settled: pending, or no row yet."""
        settled = DigestDelivery.objects.filter(week_start=self.week).exclude(status=Status.PENDING)
        return self.figures.opted_in_users - settled.count()

    def idle(self) -> bool:
        """Nothing queued and nothing held by the worker, twice a second apart (a message
        just taken off the queue takes a moment to show as reserved)."""
        for _ in range(2):
            if self.broker.queued() != 0 or self.worker.busy():
                return False
            time.sleep(1.0)
        return True

    def sending(self, low: int, high: int) -> bool:
        """Digests are arriving right now, and between ``low`` and ``high`` have."""
        before = self.sink.count
        time.sleep(0.3)
        return low <= before < self.sink.count < high

    def unfinished(self, start: int, name: str) -> set[str]:
        """Tasks called ``name`` that the ``start``-th worker received and never finished."""
        events = [e for e in task_events(self.worker.log_dir) if e.worker == start]
        received = {e.task_id for e in events if e.name == name and not e.succeeded}
        return received - {e.task_id for e in events if e.name == name and e.succeeded}

    def claims_held(self) -> int:
        """Digest rows claimed and not recorded: with the one worker dead, sends in doubt."""
        return DigestDelivery.objects.filter(week_start=self.week, status=Status.CLAIMED).count()

    def summarise_worker_logs(self) -> None:
        """What the workers did, task by task, from their logs."""
        figures, events = self.figures, task_events(self.worker.log_dir)

        def returns(name: str) -> list[Any]:
            return [e.returned for e in events if e.name == name and e.succeeded]

        # A schedule run returns how much it queued: the first is the weekly run itself.
        figures.report_chunks_queued_by_reruns = sum(returns(SCHEDULE_REPORTS)[1:])
        figures.digests_queued_by_reruns = sum(returns(SEND_DUE_DIGESTS)[1:])
        chunks = returns(COMPUTE_REPORT_CHUNK)
        figures.report_chunks_finished = len(chunks)
        figures.report_outcomes = dict(sum(map(Counter, chunks), Counter()))
        digest_chunks = returns(SEND_DIGEST_CHUNK)
        figures.digest_chunks_finished = len(digest_chunks)
        figures.digest_outcomes = dict(sum(map(Counter, digest_chunks), Counter()))
        received = Counter(e.task_id for e in events if not e.succeeded)
        figures.tasks_redelivered = sum(1 for n in received.values() if n > 1)


def test_weekly_run_and_digests_survive_killed_workers_and_a_redis_crash_exactly_once(
    stack: tuple[RedisServer, Worker, MailSink, Beat],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    broker, worker, sink, beat = stack
    run = Run(broker, worker, sink)
    figures = run.figures

    # --- 2,000 couples with three weeks of history, and a few users who must get nothing ----
    now = timezone.now()
    zone = _one_timezone(now)
    monkeypatch.setattr(generate, "TIMEZONES", (zone,))
    call_command(
        "seed_synthetic",
        *("--couples", str(COUPLES), "--weeks", str(WEEKS), "--seed", str(SEED), "--quiet"),
    )
    # Everyone, therapists included, lives in that timezone and gets their digest at this
    # hour of this week: beat's send_due_digests owes the week's digests now, not on Monday.
    local = now.astimezone(ZoneInfo(zone))
    User.objects.filter(email__endswith=generate.EMAIL_DOMAIN).update(
        timezone=zone, digest_weekday=local.weekday(), digest_hour=local.hour
    )
    partners = list(
        User.objects.filter(email__startswith=f"partner-{SEED}-")
        .order_by("email")
        .values_list("pk", flat=True)
    )
    User.objects.filter(pk__in=partners[:OPTED_OUT]).update(weekly_digest=False)
    User.objects.filter(pk__in=partners[OPTED_OUT : OPTED_OUT + UNVERIFIED]).update(
        email_verified_at=None
    )
    run.week = last_completed_week(zone, now)
    couple_ids = set(Couple.objects.values_list("pk", flat=True))
    opted_in = Counter(
        email.lower() for email in schedule.eligible_users().values_list("email", flat=True)
    )
    figures.couples, figures.week = len(couple_ids), run.week.isoformat()
    figures.opted_in_users = len(opted_in)
    figures.report_chunks_planned = math.ceil(COUPLES / REPORTS_CHUNK_SIZE)
    assert figures.couples == COUPLES
    # Two partners a couple, a therapist per 50 couples, less those who opted out.
    assert figures.opted_in_users == 2 * COUPLES + COUPLES // 50 - OPTED_OUT - UNVERIFIED
    assert pipeline.reports_due() == {run.week: couple_ids}
    assert sum(map(len, digests.due_user_ids(now=timezone.now()))) == figures.opted_in_users
    run.lap("seed")

    # --- the weekly run; the worker killed while reports are half done ----------------------
    owed = figures.opted_in_users
    worker.start()
    beat.start()
    run.started = time.monotonic()
    run.beat(SCHEDULE_REPORTS)
    wait_for(lambda: run.reports() >= COUPLES // 4, 120, "a quarter of the reports")
    # A kill that interrupts nothing proves nothing: kill while a chunk runs, and again (a new
    # worker, a few times at most) if the worker's log shows it had finished all it received.
    for attempt in range(1, KILL_ATTEMPTS + 1):
        wait_for(
            lambda: any(t["name"] == COMPUTE_REPORT_CHUNK for t in worker.active()),
            120,
            "a report chunk to be running",
        )
        figures.reports_done_at_kill = run.reports()
        worker.kill()
        interrupted = run.unfinished(worker.starts, COMPUTE_REPORT_CHUNK)
        figures.kill_attempts["reports"] = attempt
        if interrupted:
            break
        worker.start()
    figures.tasks_interrupted_by_report_kill = len(interrupted)
    assert interrupted, f"{KILL_ATTEMPTS} kills mid-reports and none interrupted a chunk"
    assert figures.reports_done_at_kill < COUPLES, "the kill landed after the run had finished"
    run.lap("worker_killed_mid_reports")

    # --- one pool process killed mid-chunk, as the OOM killer would: its parent lives on -----
    worker.start()
    killed = worker.kill_pool_process(running=COMPUTE_REPORT_CHUNK)
    # acks_late and reject_on_worker_lost: the chunk goes back to the queue and runs again.
    wait_for(
        lambda: any(e.task_id == killed and e.succeeded for e in task_events(worker.log_dir)),
        120,
        "the killed pool process's chunk to be redelivered and computed",
    )
    run.lap("pool_process_killed_and_chunk_redelivered")

    # --- the digests go out; Redis crashes under them: everything queued in it is gone -------
    run.beat(SEND_DUE_DIGESTS)
    wait_for(lambda: run.sending(owed // 20, owed // 2), 120, "digests to be going out")
    # The crash is timed when Redis holds messages (queued, or delivered and unacknowledged),
    # so it destroys work in flight; the count is taken the moment before the kill.
    figures.messages_lost_with_redis = wait_for(
        lambda: max(broker.queued(), 0) + int(broker.client().hlen("unacked")),
        60,
        "Redis to hold messages in flight",
        every=0.05,
    )
    figures.digests_sent_at_redis_crash = sink.count
    broker.crash_and_restart()
    crashed_at = timezone.now()
    assert figures.messages_lost_with_redis > 0
    run.lap("redis_restarted")
    # Beat's next runs, as if their hour and quarter had come: the hourly one finds the couples
    # whose chunks the first killed worker held, the quarter-hourly one the users still owed a
    # digest (those whose chunks the crash took among them).
    run.beat(SCHEDULE_REPORTS)
    run.beat(SEND_DUE_DIGESTS)

    # --- the worker killed again, while digests are half sent -------------------------------
    # Killed while a send is claimed and unrecorded (a send left in doubt); again, with a new
    # worker, a few times at most, if the kill left no claim behind.
    low = owed // 3
    for attempt in range(1, KILL_ATTEMPTS + 1):
        wait_for(partial(run.sending, low, owed * 19 // 20), 180, "digests to be going out")
        worker.kill()
        figures.digests_sent_at_kill = sink.count
        figures.kill_attempts["digests"] = attempt
        figures.claims_left_by_digest_kill = run.claims_held()
        figures.tasks_interrupted_by_digest_kill = len(
            run.unfinished(worker.starts, SEND_DIGEST_CHUNK)
        )
        worker.start()
        if figures.claims_left_by_digest_kill:
            break
        low = sink.count  # the next kill, while the next digests go out
        run.beat(SEND_DUE_DIGESTS)  # what the killed worker's chunk held is owed again
    assert figures.claims_left_by_digest_kill > 0, (
        f"{KILL_ATTEMPTS} kills mid-digests and none left a send in doubt"
    )
    assert figures.tasks_interrupted_by_digest_kill > 0
    assert figures.digests_sent_at_kill < owed, "the kill landed after every digest had gone"
    run.lap("worker_killed_mid_digests")

    # --- recovery: beat's next runs, until nothing is missing ---------------------------------
    for _ in range(6):
        wait_for(run.idle, 240, "the worker to finish what it holds", every=0.5)
        if run.reports() < COUPLES:
            figures.beat_report_reruns += 1
            run.beat(SCHEDULE_REPORTS)
        elif run.digests_owed():
            figures.beat_digest_reruns += 1
            run.beat(SEND_DUE_DIGESTS)
        else:
            break
    assert run.reports() == COUPLES, "reports still missing after recovery"
    assert run.digests_owed() == 0, "digests still owed after recovery"
    # The real beat lived through it all, and what it sends after the crash reaches a worker:
    # the heartbeat it recorded in the (restarted, so emptied) Redis is a later one.
    assert beat.alive(), beat.log_path.read_text()[-4000:]
    heartbeat = RedisCache(broker.url, {"KEY_PREFIX": "duet"})
    record = wait_for(lambda: heartbeat.get(HEARTBEAT_CACHE_KEY), 30, "a heartbeat after the crash")
    figures.beat_heartbeat_after_crash = record["at"]
    assert dt.datetime.fromisoformat(record["at"]) > crashed_at
    run.lap("recovered")

    # --- the operator's decision on sends whose outcome is unknown (docs/operations.md) ------
    # Beat gives a dead worker's claim up after CLAIM_TIMEOUT; the worker is idle, so every
    # claim left is a dead worker's: the test skips those 30 minutes instead of waiting.
    delivery.release_abandoned_claims(now=timezone.now() + delivery.CLAIM_TIMEOUT)
    unknown = list(
        DigestDelivery.objects.filter(
            week_start=run.week, status=Status.FAILED, error__startswith="outcome unknown"
        )
    )
    # The sink is the mail server's log: a Message-ID it never accepted goes back to pending.
    accepted = sink.by_message_id()
    never_accepted = [row.pk for row in unknown if not accepted[row.message_id]]
    figures.outcome_unknown = len(unknown)
    # Each claim the digest kill left is a send in doubt now (and none was invented).
    assert figures.outcome_unknown >= figures.claims_left_by_digest_kill > 0
    figures.outcome_unknown_resent = len(never_accepted)
    figures.outcome_unknown_delivered = len(unknown) - len(never_accepted)
    if never_accepted:
        DigestDelivery.objects.filter(pk__in=never_accepted).update(
            status=Status.PENDING, claim_token=None
        )
        operator = subprocess.run(
            [sys.executable, "manage.py", "send_digests", "--week", run.week.isoformat()],
            cwd=ROOT,
            env=worker.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert operator.returncode == 0, operator.stderr[-4000:]
    run.lap("total")

    # --- the figures ----------------------------------------------------------------------
    per_couple = Counter(
        WeeklyReport.objects.filter(week_start=run.week).values_list("couple_id", flat=True)
    )
    figures.reports = sum(per_couple.values())
    figures.report_revisions_above_1 = WeeklyReport.objects.filter(revision__gt=1).count()
    figures.digests_in_sink = sink.count
    figures.worker_kills, figures.redis_restarts = worker.kills, broker.restarts
    figures.pool_process_kills = worker.pool_process_kills
    run.summarise_worker_logs()
    # The pool process's chunk came back to the queue and was received again.
    assert figures.tasks_redelivered >= 1
    (tmp_path / "figures.json").write_text(json.dumps(asdict(figures), indent=2))
    print(f"\nCHAOS {json.dumps(asdict(figures))}")  # noqa: T201 - `make chaos` shows it

    # --- every couple one report --------------------------------------------------------------
    assert set(per_couple) == couple_ids, "a couple without its report"
    assert set(per_couple.values()) == {1}
    assert WeeklyReport.objects.count() == COUPLES  # and none of another week
    # Chunks ran more than once (re-found after the kills): same data, same report.
    assert figures.report_revisions_above_1 == 0

    # --- every opted-in user one message, nobody else any -----------------------------------
    received = sink.by_recipient()
    lost = sorted(set(opted_in) - set(received))
    doubled = sorted(address for address, n in received.items() if n > 1)
    unexpected = sorted(set(received) - set(opted_in))
    assert not lost, f"{len(lost)} opted-in users got no digest: {lost[:5]}"
    assert not doubled, f"{len(doubled)} users got more than one: {doubled[:5]}"
    assert not unexpected, f"{len(unexpected)} users got one without opting in: {unexpected[:5]}"
    assert received == opted_in

    # --- the ledger agrees with the sink ------------------------------------------------------
    rows = list(DigestDelivery.objects.all())
    assert {row.week_start for row in rows} == {run.week}
    assert len(rows) == figures.opted_in_users
    accepted = sink.by_message_id()
    assert all(accepted[row.message_id] == 1 for row in rows), "ledger and sink disagree"
    # Sent; but a send whose outcome a kill hid stays failed, though the sink has it.
    delivered_unknown = figures.outcome_unknown_delivered
    assert Counter(str(row.status) for row in rows) == +Counter(
        {"sent": len(rows) - delivered_unknown, "failed": delivered_unknown}
    )
