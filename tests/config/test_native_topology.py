"""The production Procfile booted natively on PostgreSQL and Redis: web, worker and beat."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from config.celery import app as celery_app
from config.tasks import HEARTBEAT_CACHE_KEY

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # send_task always goes through the broker, which is the point here.
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def native_stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "native-topology-test-secret-key-" + "x" * 40,
        "JWT_SIGNING_KEY": "native-topology-test-jwt-key-" + "y" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "HEARTBEAT_INTERVAL_SECONDS": "2",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    log = (tmp_path / "honcho.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "honcho"), "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield {"port": port, "log": tmp_path / "honcho.log", "process": process}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def test_procfile_boots_web_worker_and_beat_on_postgres_and_redis(
    native_stack: dict[str, Any],
) -> None:
    base = f"http://127.0.0.1:{native_stack['port']}"
    _, body = _wait_for(
        lambda: (r := _get(f"{base}/readyz"))[0] == 200 and r, 60, "gunicorn to answer /readyz"
    )
    assert b'"database": true' in body
    assert b'"broker": true' in body

    token = uuid.uuid4().hex
    celery_app.send_task("config.tasks.heartbeat", args=[token], queue="default")
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "duet"})
    ran_at = _wait_for(
        lambda: cache.get(f"{HEARTBEAT_CACHE_KEY}:{token}"), 60, "the worker to run our task"
    )
    assert ran_at

    # Beat schedules the heartbeat on its own, and the worker runs it.
    _wait_for(
        lambda: "Scheduler: Sending due task worker-heartbeat" in native_stack["log"].read_text(),
        60,
        "beat to send the periodic heartbeat",
    )
    log = native_stack["log"].read_text()
    assert native_stack["process"].poll() is None, log
