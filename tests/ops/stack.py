"""Real processes for the integration tests of issue 21: gunicorn, a Celery worker, beat.

Each is started in a session of its own (so that it and its children can be signalled
together), logs to a file under the test's tmp_path, and is stopped at teardown. They use the
test database on PostgreSQL and the Redis of REDIS_URL, with production settings.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from django.conf import settings

from tests.processes import BIN
from tests.processes import free_port
from tests.processes import http_get
from tests.processes import process_database_url
from tests.processes import start
from tests.processes import stop
from tests.processes import wait_for

__all__ = ["METRICS_TOKEN", "Stack", "http_get", "wait_for"]
METRICS_TOKEN = "ops-integration-metrics-token-0123456789abcdef"


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
            "DATABASE_URL": process_database_url(),
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
        self.processes[name] = start(argv, log_path=log_path, env={**self.env, **env})
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
        stop(self.processes.pop(name))

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
