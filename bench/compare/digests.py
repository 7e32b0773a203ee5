"""Digests of a few chunks of users sent in-process to an SMTP sink by the code under ``root``:
messages per second, CPU per message and queries per chunk (their ledger rows deleted first).

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... REDIS_URL=... \\
    .venv/bin/python bench/compare/digests.py <root> <first chunk> <chunks> <sink port>

With a sink such as `python -m aiosmtpd -n -l 127.0.0.1:<port> -c aiosmtpd.handlers.Sink`, on a
database with the week's reports (docs/benchmarks.md, issue 20).

    ... bench/compare/digests.py <root> <first chunk> <chunks> phases

sends nothing and writes no row: CPU per digest of loading the chunks' sources, composing
(Python and templates) and serialising the MIME message, the best of five repetitions.

    ... bench/compare/digests.py <root> <first chunk> <chunks> <sink port> waits

sends as the first form and also prints how long the sender sat waiting for each kind of
reply (to MAIL, RCPT, DATA, and the verdict on the message, END), mean ms a message: the
time rendering ahead did not fill (docs/benchmarks.md, session 8).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from typing import Any


def main(root: str, first: int, chunks: int, port: int | None, watch_waits: bool) -> None:
    sys.path.insert(0, root)
    os.chdir(root)
    if port is not None:
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
    if port is None:
        phases(root, users, week, now)
        return
    waits = _time_the_waits() if watch_waits else {}
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
    if waits:
        each = ", ".join(f"{k} {sum(v) / max(sent, 1) * 1000:.3f}" for k, v in waits.items())
        print(f"{root}: waiting for the server, ms a message: {each}")


def _time_the_waits() -> dict[str, list[float]]:
    """Time every blocking read of a reply, by the command it answers."""
    import smtplib

    waits: dict[str, list[float]] = {"MAIL": [], "RCPT": [], "DATA": [], "END": []}
    said = ["?"]
    putcmd, send, getreply = smtplib.SMTP.putcmd, smtplib.SMTP.send, smtplib.SMTP.getreply

    def putcmd_(self: smtplib.SMTP, cmd: str, args: str = "") -> None:
        said[0] = cmd.split()[0].upper()
        putcmd(self, cmd, args)

    def send_(self: smtplib.SMTP, data: Any) -> None:
        if isinstance(data, bytes) and data.endswith(b"\r\n.\r\n"):
            said[0] = "END"
        send(self, data)

    def getreply_(self: smtplib.SMTP) -> tuple[int, bytes]:
        started = time.perf_counter()
        try:
            return getreply(self)
        finally:
            waits.setdefault(said[0], []).append(time.perf_counter() - started)

    for name, spy in (("putcmd", putcmd_), ("send", send_), ("getreply", getreply_)):
        setattr(smtplib.SMTP, name, spy)
    return waits


def phases(root: str, users: list[Any], week: dt.date, now: dt.datetime) -> None:
    from engagement.digests import pipeline
    from engagement.digests.sources import DigestSources
    from engagement.models import DigestDelivery

    best = dict.fromkeys(("load", "compose", "mime"), float("inf"))
    for repetition in range(6):
        spent = dict.fromkeys(best, 0.0)
        messages = 0
        for i in range(0, len(users), pipeline.CHUNK_SIZE):
            chunk = users[i : i + pipeline.CHUNK_SIZE]
            weeks = {user.id: week for user in chunk}
            started = time.process_time()
            sources = DigestSources.load(user_ids=weeks.keys(), weeks={week}, now=now)
            loaded = time.process_time()
            outgoing = []
            for plan in pipeline._plans(chunk, sources, weeks):
                row = DigestDelivery(user=plan.user, kind=plan.key.kind, week_start=week)
                if item := pipeline._compose(plan, sources, row):
                    outgoing.append((item, item.message))  # rendered now, even where lazy
            composed = time.process_time()
            for _item, message in outgoing:
                message.message().as_bytes(linesep="\r\n")
            spent["load"] += loaded - started
            spent["compose"] += composed - loaded
            spent["mime"] += time.process_time() - composed
            messages += len(outgoing)
        if repetition:  # the first warms up: templates compiled, the URL resolver filled
            best = {k: min(best[k], v / messages * 1000) for k, v in spent.items()}
    each = ", ".join(f"{k} {v:.3f}" for k, v in best.items())
    print(f"{root}: {messages} digests, CPU ms each: {each}")


if __name__ == "__main__":
    port = None if sys.argv[4] == "phases" else int(sys.argv[4])
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), port, sys.argv[5:] == ["waits"])
