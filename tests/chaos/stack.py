"""The real processes the chaos test starts, kills and restarts: Redis, Celery workers, SMTP."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import redis
from aiosmtpd.controller import Controller
from celery import Celery

from config.celery import QUEUES
from tests.processes import BIN
from tests.processes import ROOT
from tests.processes import celery_worker_argv
from tests.processes import free_port
from tests.processes import start
from tests.processes import stop
from tests.processes import wait_for

__all__ = ["ROOT", "Beat", "MailSink", "RedisServer", "Worker", "task_events", "wait_for"]


class RedisServer:
    """A private redis-server, never the shared one: the test kills it with -9 and starts it
    again on the same port, empty (no RDB, no AOF), as a crashed non-persistent broker comes
    back."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = start(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            log_path=self.log_dir / f"redis-{self.restarts}.log",
            env=None,
        )
        wait_for(self.answers, 20, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def crash_and_restart(self, down_seconds: float = 1.0) -> None:
        """SIGKILL, a moment down, then a fresh empty server: every queued message is gone."""
        self.stop(signal.SIGKILL)
        time.sleep(down_seconds)
        self.restarts += 1
        self.start()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        try:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def queued(self) -> int:
        """Messages waiting in the worker queues (kombu keeps each queue as a Redis list)."""
        try:
            client = self.client()
            return sum(int(client.llen(queue)) for queue in QUEUES)
        except redis.RedisError:
            return -1  # down or restarting: unknown, so not idle


class Worker:
    """`celery -A config worker` with two prefork processes on every queue, in its own process
    group so that one SIGKILL takes the parent and its pool at once, mid-task."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0  # of the whole process group
        self.pool_process_kills = 0

    @property
    def hostname(self) -> str:
        return f"chaos-{os.getpid()}-{self.starts}@127.0.0.1"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"worker-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        self.process = start(
            celery_worker_argv(",".join(QUEUES), self.hostname),
            log_path=self.log_path,
            env=self.env,
        )
        wait_for(lambda: "ready." in self.log_path.read_text(), 90, "the worker to start")

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown, no acks, no rejects."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None
        self.kills += 1

    def kill_pool_process(self, running: str) -> str:
        """SIGKILL the pool process running a task named ``running`` and leave the parent
        alive, as the OOM killer would; returns the id of the task it was running."""
        tasks = wait_for(
            lambda: [t for t in self.active() if t["name"] == running], 60, f"{running} to run"
        )
        os.kill(int(tasks[0]["worker_pid"]), signal.SIGKILL)
        self.pool_process_kills += 1
        return str(tasks[0]["id"])

    def stop(self) -> None:
        if self.process is None:
            return
        stop(self.process)
        self.process = None

    def busy(self) -> bool:
        """Whether this worker holds any task (running, prefetched or waiting for a retry's
        countdown); True when it does not answer, so silence never passes for idle."""
        replies = [self._inspect(kind) for kind in ("active", "reserved", "scheduled")]
        return any(reply is None or reply for reply in replies)

    def active(self) -> list[dict[str, Any]]:
        """The tasks running now (name, id, worker_pid, ...); empty when it does not answer."""
        return self._inspect("active") or []

    def _inspect(self, kind: str) -> list[dict[str, Any]] | None:
        """This worker's answer to `celery inspect <kind>`; None when it gives none."""
        assert self.process is not None, "the worker is not running"
        assert self.process.poll() is None, "the worker died"
        # An app of its own: the project's would publish the broadcast on its default broker
        # (the shared Redis), whatever connection it is given, and hear no reply.
        control = Celery("chaos-control", broker=self.env["REDIS_URL"], set_as_current=False)
        try:
            inspect = control.control.inspect(destination=[self.hostname], timeout=2.0)
            replies = getattr(inspect, kind)()
        except Exception:  # a broker restarting: ask again later
            return None
        finally:
            control.close()
        return None if replies is None else list(replies.get(self.hostname, []))


class Beat:
    """`celery -A config beat` as the Procfile runs it, with production's schedule (the heartbeat
    every HEARTBEAT_INTERVAL_SECONDS), in its own process group, its schedule file in the test's
    directory."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_path = log_dir / "beat.log"
        self.schedule = log_dir / "celerybeat-schedule"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start(
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.schedule}",
            ],
            log_path=self.log_path,
            env=self.env,
        )
        wait_for(lambda: "beat: Starting" in self.log_path.read_text(), 60, "beat to start")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        stop(self.process)
        self.process = None


@dataclass(frozen=True)
class TaskEvent:
    """A line of a worker's log about a task: received, or succeeded with what it returned."""

    worker: int  # which start of the worker: 1, 2, ...
    name: str
    task_id: str
    succeeded: bool
    returned: Any = None


_TASK_LINE = re.compile(
    r"^Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]+)\] "
    r"(?:(?P<received>received)|succeeded in [0-9.e-]+s: (?P<returned>.*))$",
    re.S,
)


def task_events(log_dir: Path) -> list[TaskEvent]:
    """Every task received or finished by every worker started in ``log_dir``, in order."""
    events = []
    for path in sorted(log_dir.glob("worker-*.log"), key=lambda p: int(p.stem.split("-")[1])):
        start = int(path.stem.split("-")[1])
        for line in path.read_text().splitlines():
            if not line.startswith("{"):
                continue  # the banner and Python warnings; the logging is JSON lines
            match = _TASK_LINE.match(str(json.loads(line).get("message", "")))
            if match is None:
                continue
            returned = match["returned"]
            events.append(
                TaskEvent(
                    worker=start,
                    name=match["name"],
                    task_id=match["id"],
                    succeeded=returned is not None,
                    returned=None if returned is None else ast.literal_eval(returned),
                )
            )
    return events


class MailSink:
    """aiosmtpd in the test process, so it outlives every worker: one JSON line per accepted
    message (envelope recipients, Message-ID), written before the server answers 250."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        self._file = path.open("a", encoding="utf-8")
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        record = {
            "to": [address.lower() for address in envelope.rcpt_tos],
            "message_id": str(headers["Message-ID"] or "").strip(),
        }
        with self._lock:
            self._received.append(record)
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
        self._file.close()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def by_recipient(self) -> Counter[str]:
        with self._lock:
            return Counter(address for record in self._received for address in record["to"])

    def by_message_id(self) -> Counter[str]:
        with self._lock:
            return Counter(record["message_id"] for record in self._received)
