"""The one process harness of the tests and the benchmarks: free ports, reachability, waiting,
`manage.py` in a subprocess, the environment of production settings, and real processes
(gunicorn, Celery, honcho, redis-server) started in a session of their own and stopped with
their children.

Test code only: `bench/` imports it as `tests.processes`; nothing under `accounts/`,
`engagement/` or `config/` may.
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
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(url: str, default_port: int) -> bool:
    """Whether the host and port of ``url`` accept a TCP connection within a second."""
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def poll(predicate: Callable[[], Any], timeout: float, every: float = 0.3) -> Any:
    """``predicate()`` once it is truthy, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(every)
    return None


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.3) -> Any:
    """``predicate()`` once it is truthy; fails the test after ``timeout`` seconds."""
    result = poll(predicate, timeout, every)
    if result is None:
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
    return result


def answers(url: str) -> bool:
    """Whether a GET of ``url`` answers 200 within two seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


def process_database_url() -> str:
    """The test database, which the processes must use too (not the one DATABASE_URL names)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def http_get(url: str, token: str | None = None, timeout: float = 10) -> tuple[int, str]:
    """The status and body of a GET; (0, "") when nothing answers."""
    request = urllib.request.Request(url)  # noqa: S310 - loopback only
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def manage(
    *argv: str, env: Mapping[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """`python manage.py <argv>` from the repository root, its output captured."""
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# What production settings need to start (config/settings/prod.py): made-up secrets, a SQLite
# file and a Redis URL nothing is sent to, for `manage.py check --deploy` and the like.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": "s" * 20 + "-production-secret-key-for-tests-only-0123456789",
    "JWT_SIGNING_KEY": "j" * 20 + "-production-jwt-key-for-tests-only-0123456789",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "ALLOWED_HOSTS": "api.duet.example",
    "DATABASE_URL": "sqlite:////tmp/duet-prod-check.sqlite3",
}


def manage_in_production(*argv: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``manage`` with this environment, cleared of every name PRODUCTION_ENV sets, and ``env``
    on top (PRODUCTION_ENV itself, or part of it)."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return manage(*argv, env={**clean, **env}, timeout=120)


def production_process_env(*, redis_url: str, **env: str) -> dict[str, str]:
    """The environment of a process started on production settings (made-up secrets), the test
    database and ``redis_url``, this virtualenv's commands first on PATH, ``env`` on top."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "process-test-secret-key-" + "x" * 40,
        "JWT_SIGNING_KEY": "process-test-jwt-signing-key-" + "y" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": process_database_url(),
        "REDIS_URL": redis_url,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        **env,
    }


def manage_or_exit(*argv: str, env: Mapping[str, str]) -> str:
    """``manage`` for the command-line runners (bench, fuzz): its output, or exit with its
    error."""
    completed = manage(*argv, env=env)
    if completed.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(argv)} failed:\n{completed.stderr[-4000:]}")
    return completed.stdout


def start(
    argv: list[str], *, log_path: Path, env: Mapping[str, str] | None
) -> subprocess.Popen[bytes]:
    """``argv`` from the repository root in a session of its own (so that it and its children
    are signalled together), its output in ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=None if env is None else dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM to its process group, SIGKILL after ``grace`` seconds; gone either way."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def running(
    argv: list[str], *, log_path: Path, env: Mapping[str, str] | None
) -> Iterator[subprocess.Popen[bytes]]:
    """``start`` on entry, ``stop`` on exit."""
    process = start(argv, log_path=log_path, env=env)
    try:
        yield process
    finally:
        stop(process)


def celery_worker_argv(queues: str, hostname: str, concurrency: int = 2) -> list[str]:
    """`celery -A config worker` on ``queues`` with a prefork pool, under its own name (so it
    never shares a mailbox with another worker on the broker)."""
    return [
        str(BIN / "celery"),
        "-A",
        "config",
        "worker",
        "-Q",
        queues,
        "--pool=prefork",
        "-c",
        str(concurrency),
        "--loglevel=INFO",
        f"--hostname={hostname}",
    ]


@contextmanager
def celery_worker(queues: str, *, hostname: str, log_path: Path, **env: str) -> Iterator[Path]:
    """A started Celery worker on the test database and REDIS_URL, test settings, not eager,
    with ``env`` on top (its log says "ready."); its log's path."""
    from django.conf import settings

    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": process_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        **env,
    }
    with running(celery_worker_argv(queues, hostname), log_path=log_path, env=worker_env):
        wait_for(lambda: "ready." in log_path.read_text(), 60, "the worker to start")
        yield log_path
