"""The production Procfile booted natively on PostgreSQL and Redis: web, worker and beat.

On a redis-server of the test's own (free port), so no other checkout on the host can feed or
consume its queues; proves the worker ran the heartbeat beat sent, not only beat's log line.
"""

from __future__ import annotations

import re
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache.backends.redis import RedisCache

from config.celery import app as celery_app
from config.tasks import HEARTBEAT_CACHE_KEY
from tests.chaos.stack import RedisServer
from tests.conftest import THROUGH_THE_BROKER
from tests.processes import BIN
from tests.processes import free_port
from tests.processes import production_process_env
from tests.processes import running
from tests.processes import wait_for

pytestmark = THROUGH_THE_BROKER


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own on a free port: no other checkout, CI pass or helper on
    the host shares its keys, queues or beat's messages, so what the worker runs came from here."""
    if shutil.which("redis-server") is None:
        pytest.skip("the topology test needs the redis-server binary (Debian package redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def native_stack(tmp_path: Path, private_redis: RedisServer) -> Iterator[dict[str, Any]]:
    port = free_port()
    env = production_process_env(
        redis_url=private_redis.url,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        HEARTBEAT_INTERVAL_SECONDS="2",
    )
    log_path = tmp_path / "honcho.log"
    with running(
        [str(BIN / "honcho"), "start", "-f", "Procfile"], log_path=log_path, env=env
    ) as process:
        yield {
            "port": port,
            "log": log_path,
            "process": process,
            "redis_url": private_redis.url,
        }


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


_WORKER_TASK = re.compile(r"Task config\.tasks\.heartbeat\[(?P<id>[0-9a-f-]+)\] succeeded")


def _heartbeats_the_worker_ran(log: str) -> set[str]:
    """Ids of the heartbeat tasks the worker process (honcho's `worker.1`) logged as done."""
    return {
        match["id"]
        for line in log.splitlines()
        if " worker.1 " in line[:30]
        for match in [_WORKER_TASK.search(line)]
        if match is not None
    }


def test_procfile_boots_web_worker_and_beat_on_postgres_and_redis(
    native_stack: dict[str, Any],
) -> None:
    base = f"http://127.0.0.1:{native_stack['port']}"
    _, body = wait_for(
        lambda: (r := _get(f"{base}/readyz"))[0] == 200 and r, 60, "gunicorn to answer /readyz"
    )
    assert b'"database": true' in body
    assert b'"broker": true' in body
    redis_url = native_stack["redis_url"]
    cache = RedisCache(redis_url, {"KEY_PREFIX": "duet"})

    # The worker consumes what is sent through the broker: our own heartbeat, with a token.
    token = uuid.uuid4().hex
    with celery_app.connection_for_write(redis_url) as connection:
        ours = celery_app.send_task(
            "config.tasks.heartbeat", args=[token], queue="default", connection=connection
        ).id
    ran_at = wait_for(
        lambda: cache.get(f"{HEARTBEAT_CACHE_KEY}:{token}"), 60, "the worker to run our task"
    )
    assert ran_at

    # Beat schedules the heartbeat on its own (every 2 s here), and the worker runs it. Beat
    # sends it without a token; on this private Redis nobody else sends heartbeats, so a
    # heartbeat the worker ran that is not ours, and a record written without a token, after
    # ours, are beat's.
    cache.delete(HEARTBEAT_CACHE_KEY)
    record = wait_for(
        lambda: (r := cache.get(HEARTBEAT_CACHE_KEY)) and r["token"] == "" and r,
        60,
        "the worker to run a heartbeat beat sent",
    )
    assert record["at"] >= ran_at
    log = native_stack["log"].read_text()
    assert "Scheduler: Sending due task worker-heartbeat" in log, log[-4000:]
    from_beat = wait_for(
        lambda: _heartbeats_the_worker_ran(native_stack["log"].read_text()) - {ours},
        30,
        "the worker's log of a heartbeat beat sent",
    )
    assert from_beat
    assert native_stack["process"].poll() is None, native_stack["log"].read_text()[-4000:]
