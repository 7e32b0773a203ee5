"""Digests of a few chunks of users sent in-process to an SMTP sink by the code under ``root``:
messages per second, CPU per message and queries per chunk (their ledger rows deleted first).

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... REDIS_URL=... \\
    .venv/bin/python bench/compare/digests.py <root> <first chunk> <chunks> <sink port>

With a sink such as `python -m aiosmtpd -n -l 127.0.0.1:<port> -c aiosmtpd.handlers.Sink`, on a
database with the week's reports (docs/benchmarks.md, issue 20).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time


def main(root: str, first: int, chunks: int, port: int) -> None:
    sys.path.insert(0, root)
    os.chdir(root)
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    import engagement.digests.delivery
    from engagement.digests import pipeline
    from engagement.digests import schedule
    from engagement.models import DigestDelivery

    assert str(engagement.digests.delivery.__file__).startswith(root)
    today = dt.date.today()
    week = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=1)
    size = pipeline.CHUNK_SIZE
    ids = list(
        schedule.eligible_users()
        .order_by("id")
        .values_list("id", flat=True)[first * size : (first + chunks) * size]
    )
    DigestDelivery.objects.filter(user_id__in=ids, week_start=week).delete()
    users = list(schedule.eligible_users().filter(id__in=ids).order_by("id"))
    now = timezone.now()
    sent, queries = 0, []
    wall, cpu = time.monotonic(), time.process_time()
    for i in range(0, len(users), size):
        with CaptureQueriesContext(connection) as ctx:
            counts = pipeline.send_digests(
                users[i : i + size], now=now, week=week, on_schedule=False
            )
        sent += counts["sent"]
        queries.append(len(ctx.captured_queries))
    elapsed, cpu = time.monotonic() - wall, time.process_time() - cpu
    print(
        f"{root}: {sent} sent in {elapsed:.1f} s = {sent / elapsed:.1f} msg/s; "
        f"cpu {cpu / max(sent, 1) * 1000:.2f} ms/msg; queries per chunk {queries}"
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
