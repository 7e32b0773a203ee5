"""Real processes for the integration tests of issue 21: gunicorn, a Celery worker, beat.

Each is started in a session of its own (so that it and its children can be signalled
together), logs to a file under the test's tmp_path, and is stopped at teardown. They use the
test database on PostgreSQL and the Redis of REDIS_URL, with production settings.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
METRICS_TOKEN = "ops-integration-metrics-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The test database, which the processes must use too (not the one DATABASE_URL names)."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def http_get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback only
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


class Stack:
    """The processes of one test; `stop(name)` ends one of them early (say, beat)."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.tmp = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": "ops-integration-secret-key-" + "x" * 40,
            "JWT_SIGNING_KEY": "ops-integration-jwt-key-" + "y" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "METRICS_TOKEN": METRICS_TOKEN,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            **env,
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str, argv: list[str], **env: str) -> None:
        log_path = self.tmp / f"{name}.log"
        with log_path.open("w") as log:
            self.processes[name] = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.logs[name] = log_path

    def log(self, name: str) -> str:
        return self.logs[name].read_text()

    def gunicorn(self, workers: int = 2) -> str:
        """gunicorn as the Procfile runs it; its base URL."""
        port = free_port()
        self.start(
            "web",
            [str(BIN / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.conf.py"],
            PORT=str(port),
            WEB_CONCURRENCY=str(workers),
            PROMETHEUS_MULTIPROC_DIR=str(self.tmp / "metrics-web"),
        )
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_get(f"{base}/healthz")[0] == 200, 60, "gunicorn to answer")
        return base

    def worker(self, concurrency: int = 2) -> str:
        """A Celery worker on every queue with a prefork pool; the URL of its metrics."""
        port = free_port()
        self.start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--queues=default,reports,email",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                f"--hostname=ops-test-{os.getpid()}@%h",
            ],
            PROMETHEUS_MULTIPROC_DIR=str(self.tmp / "metrics-worker"),
            WORKER_METRICS_BIND=f"127.0.0.1:{port}",
        )
        wait_for(lambda: "ready." in self.log("worker"), 60, "the worker to start")
        url = f"http://127.0.0.1:{port}/metrics"
        wait_for(lambda: http_get(url)[0] == 401, 30, "the worker's metrics server")
        return url

    def beat(self) -> None:
        self.start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.tmp / 'celerybeat-schedule'}",
            ],
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
