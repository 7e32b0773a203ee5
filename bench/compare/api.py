"""The check-in list against the bare view, in-process, for the code under ``root`` (a checkout
of another commit, or this one): CPU and wall time per request, in alternating rounds.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... REDIS_URL=... \\
    THROTTLE_USER_RATE=10000000/min .venv/bin/python bench/compare/api.py <root>

Run it for the old and the new checkout in turn, twice (docs/benchmarks.md, issue 20).

With a kind and a count, `bench/compare/api.py <root> api|bare|none <n>`, it sends 10 requests of
each kind and then `n` of that kind, untimed: under `valgrind --tool=callgrind`, the instructions
of `api 40` less those of `none 0`, over 40, are the instructions of one request, which other
processes on the machine cannot move (docs/benchmarks.md, session 4).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable


def main(root: str, kind: str = "", count: int = 0) -> None:
    sys.path.insert(0, root)
    os.chdir(root)
    import django

    django.setup()
    from django.test import Client

    import accounts.authentication
    from accounts.authentication import issue_tokens
    from engagement.models import Membership

    assert str(accounts.authentication.__file__).startswith(root)
    members = list(
        Membership.objects.filter(role="partner", partner_slot=1)
        .select_related("user")
        .order_by("couple_id")[:50]
    )
    tokens = [issue_tokens(m.user)["access"] for m in members]
    client = Client(HTTP_HOST="127.0.0.1")

    def api(i: int) -> None:
        m = members[i % len(members)]
        url = f"/api/v1/checkins/?couple={m.couple_id}&page_size=50"
        token = tokens[i % len(members)]
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    def bare(i: int) -> None:
        m = members[i % len(members)]
        url = f"/bench/bare-checkins/?couple={m.couple_id}&viewer={m.user_id}"
        assert client.get(url).status_code == 200

    kinds: dict[str, Callable[[int], None]] = {"api": api, "bare": bare}
    if kind:
        for i in range(10):
            api(i)
            bare(i)
        for i in range(count if kind != "none" else 0):
            kinds[kind](i)
        return
    for f in kinds.values():
        for i in range(100):
            f(i)
    cpu: dict[str, list[float]] = {"api": [], "bare": []}
    wall: dict[str, list[float]] = {"api": [], "bare": []}
    for n in range(4):
        for name in ("api", "bare") if n % 2 == 0 else ("bare", "api"):
            c, w = time.process_time(), time.perf_counter()
            for i in range(200):
                kinds[name](i)
            cpu[name].append((time.process_time() - c) / 200 * 1000)
            wall[name].append((time.perf_counter() - w) / 200 * 1000)
    ca, cb = statistics.median(cpu["api"]), statistics.median(cpu["bare"])
    wa, wb = statistics.median(wall["api"]), statistics.median(wall["bare"])
    print(
        f"{root}: cpu api {ca:.2f} ms bare {cb:.2f} ms ratio {cb / ca:.3f}; "
        f"wall api {wa:.2f} bare {wb:.2f} ratio {wb / wa:.3f}"
    )


if __name__ == "__main__":
    kind = sys.argv[2] if len(sys.argv) > 2 else ""
    main(sys.argv[1], kind, int(sys.argv[3]) if len(sys.argv) > 3 else 0)
