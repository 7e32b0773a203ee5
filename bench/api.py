"""`api_read`, `api_read_p99_ratio` and `api_write`: GET /api/v1/checkins/ against the bare
Django view over the same rows (bench/views.py), in alternating rounds, and check-in PUTs, under
gunicorn with wrk (docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from datetime import date
from datetime import timedelta

from bench.harness import BIN
from bench.harness import ROOT
from bench.harness import Bench
from bench.harness import Result
from bench.harness import bench_port
from bench.harness import log
from bench.harness import parse_wrk


def _targets(lines: list[str]) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)  # noqa: SIM115
    handle.write("\n".join(lines) + "\n")
    handle.close()
    return handle.name


def _wrk(bench: Bench, script: str, targets: str, port: int, seconds: int) -> dict[str, float]:
    env = {**os.environ, "BENCH_TARGETS": targets}
    argv = [
        "wrk",
        "-t2",
        f"-c{bench.args.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "wrk" / script),
        f"http://127.0.0.1:{port}",
    ]
    output = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    figures = parse_wrk(output)
    if figures["non_2xx"] or figures["socket_errors"]:
        log(f"wrk {script}: {figures}")
    return figures


def _interleaved(
    bench: Bench, read_t: str, bare_t: str, port: int, seconds: int, rounds: int = 3
) -> tuple[dict[str, float], dict[str, float]]:
    """The API and the bare baseline in alternating rounds (A B, B A, A B), so that load
    from other processes on the machine weighs on both alike; requests per second over
    all rounds, p50 and p99 the median of the rounds'."""
    per_round = max(2, seconds // rounds)
    runs: dict[str, list[dict[str, float]]] = {"api": [], "bare": []}
    for n in range(rounds):
        order = ("api", "bare") if n % 2 == 0 else ("bare", "api")
        for kind in order:
            targets = read_t if kind == "api" else bare_t
            runs[kind].append(_wrk(bench, "read.lua", targets, port, per_round))

    def combined(figures: list[dict[str, float]]) -> dict[str, float]:
        out = {
            "rps": sum(f["requests"] for f in figures) / sum(f["seconds"] for f in figures),
            "requests": sum(f["requests"] for f in figures),
            "non_2xx": sum(f["non_2xx"] for f in figures),
            "socket_errors": sum(f["socket_errors"] for f in figures),
        }
        for key in ("p50_ms", "p99_ms"):
            values = sorted(f[key] for f in figures if key in f)
            if values:
                out[key] = values[len(values) // 2]
        return out

    api, bare = combined(runs["api"]), combined(runs["bare"])
    # The API's p99 over the bare view's, round by round (each pair ran back to back), median.
    ratios = sorted(
        a["p99_ms"] / b["p99_ms"]
        for a, b in zip(runs["api"], runs["bare"], strict=True)
        if a.get("p99_ms") and b.get("p99_ms")
    )
    if ratios:
        api["p99_ratio"] = ratios[len(ratios) // 2]
    return api, bare


def run(bench: Bench) -> None:
    from accounts.authentication import issue_tokens
    from accounts.models import User
    from engagement.models import Membership

    if shutil.which("wrk") is None:
        log("wrk is missing (apt-get install wrk): skipping api_read and api_write")
        return
    memberships = list(
        Membership.objects.filter(role="partner", partner_slot=1)
        .select_related("user", "couple")
        .order_by("couple_id")[:50]
    )
    read = [
        f"/api/v1/checkins/?couple={m.couple_id}&page_size=50 {issue_tokens(m.user)['access']}"
        for m in memberships
    ]
    bare = [f"/bench/bare-checkins/?couple={m.couple_id}&viewer={m.user_id} -" for m in memberships]
    day = (date.today() - timedelta(days=1)).isoformat()
    write = [
        f"/api/v1/checkins/{day}/ {issue_tokens(m.user)['access']} "
        + json.dumps(
            {
                "couple": str(m.couple_id),
                "visibility": "private",
                "mood": 3,
                "effort": 4,
                "resentment": 2,
                "note": "bench",
            },
            separators=(",", ":"),
        )
        for m in memberships
    ]
    del User
    port = bench_port()
    argv = [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "--workers",
        str(bench.args.web_workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-" if False else "/dev/null",
    ]
    env = {**bench.env}
    with bench.process(argv, "gunicorn", env):
        bench.wait_http(f"http://127.0.0.1:{port}/healthz")
        seconds = bench.args.api_seconds
        read_t, bare_t, write_t = (
            _targets(read),
            _targets(bare),
            _targets(write),
        )
        _wrk(bench, "read.lua", read_t, port, 5)  # warm up both paths
        _wrk(bench, "read.lua", bare_t, port, 5)
        api, baseline = _interleaved(bench, read_t, bare_t, port, seconds)
        bench.add(
            Result(
                "api_read",
                api["rps"],
                "req/s",
                baseline["rps"],
                api["rps"] / baseline["rps"],
                "ratio >= 0.6",
                f"p50 {api.get('p50_ms', 0):.1f} ms, p99 {api.get('p99_ms', 0):.1f} ms; "
                f"bare Django p50 {baseline.get('p50_ms', 0):.1f} ms, "
                f"p99 {baseline.get('p99_ms', 0):.1f} ms; "
                f"non-2xx {api['non_2xx']:.0f}; 3 alternating rounds each",
            )
        )
        if "p99_ratio" in api:
            bench.add(
                Result(
                    "api_read_p99_ratio",
                    api["p99_ratio"],
                    "x",
                    baseline.get("p99_ms"),
                    api["p99_ratio"],
                    "reported (lower is better)",
                    "the API's p99 over bare Django's, round by round in the same alternating "
                    "rounds, median; baseline: bare Django's median p99 in ms",
                )
            )
        put = _wrk(bench, "write.lua", write_t, port, seconds)
        bench.add(
            Result(
                "api_write",
                put["rps"],
                "req/s",
                None,
                None,
                "p99 reported",
                f"p50 {put.get('p50_ms', 0):.1f} ms, p99 {put.get('p99_ms', 0):.1f} ms; "
                f"non-2xx {put['non_2xx']:.0f}",
            )
        )
