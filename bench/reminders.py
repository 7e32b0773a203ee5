"""`reminders_100k`: one pass of the reminder planner over 100,000 users who are all due
(docs/benchmarks.md, "Reminders")."""

from __future__ import annotations

import time

from bench.harness import Bench
from bench.harness import Result
from bench.harness import log


def run(bench: Bench) -> None:
    """Planning one reminder hour for N users seeded synthetically (docs/reminders.md): the
    wall time of one pass over every candidate, and the queries each chunk costs."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from engagement.models import CheckIn
    from engagement.models import Couple
    from engagement.models import ReminderDelivery
    from engagement.reminders import planner
    from engagement.synthetic.reminders import give_devices
    from engagement.synthetic.reminders import seat_partners

    total = bench.args.reminder_users
    now = timezone.now()
    zones = ("UTC", "Europe/Madrid", "America/Mexico_City", "Asia/Tokyo")
    log(f"seeding {total} reminder users in {total // 2} couples")
    started = time.monotonic()
    batch = 5_000
    for first in range(0, total, batch):
        count = min(batch, total - first)
        users = User.objects.bulk_create(
            User(
                email=f"reminder{first + i}@bench.invalid",
                display_name="R",
                password=UNUSABLE_PASSWORD_PREFIX,
                email_verified_at=now,
                timezone=zones[(first + i) % len(zones)],
                # Everyone's hour is this one where they live: all of them are due now.
                reminder_hour=now.astimezone(ZoneInfo(zones[(first + i) % len(zones)])).hour,
                reminder_email=(first + i) % 3 == 0,
            )
            for i in range(count)
        )
        couples = Couple.objects.bulk_create(Couple(name="R") for _ in range(count // 2))
        seat_partners(users, couples)
        give_devices(users, first=first)
        CheckIn.objects.bulk_create(
            CheckIn(
                couple=couples[i // 2],
                author=u,
                date=now.date() - dt.timedelta(days=(i % 8) // 4),
                mood=3,
                visibility=("private", "couple")[i % 2],
            )
            for i, u in enumerate(users)
            if i % 4 != 3 and i // 2 < len(couples)
        )
        ReminderDelivery.objects.bulk_create(
            ReminderDelivery(
                user=u,
                local_date=now.date() - dt.timedelta(days=1 + i % 3),
                channel="push",
                status="sent",
            )
            for i, u in enumerate(users)
            if i % 5 == 0
        )
    log(f"seeded in {time.monotonic() - started:.1f} s")
    bench.vacuum()
    pages = planned = users_seen = worst = 0
    started = time.monotonic()
    for page in planner.user_pages(planner.CHUNK_SIZE):
        with CaptureQueriesContext(connection) as queries:
            planned += len(planner.plan(page, now=now))
        pages += 1
        users_seen += len(page)
        worst = max(worst, len(queries.captured_queries))
    elapsed = time.monotonic() - started
    bench.add(
        Result(
            "reminders_100k" if total == 100_000 else f"reminders_{total}",
            elapsed,
            "s",
            target="one pass; fixed queries per chunk",
            notes=(
                f"{users_seen} candidates in {pages} chunks of {planner.CHUNK_SIZE}: at most "
                f"{worst} queries a chunk (and 1 to read each page), {planned} reminders "
                "planned, nothing sent"
            ),
        )
    )
