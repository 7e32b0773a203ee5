"""Celery's side of the metrics: task outcomes and durations, the emails of the account and
invitation tasks, and, in a worker's main process, the directory and the metrics server.

The prefork children count into PROMETHEUS_MULTIPROC_DIR; the main process empties it at start
(before it forks) and serves the sum of every child on WORKER_METRICS_BIND, behind the same
bearer token as the web's `/metrics`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import WSGIServer
from wsgiref.simple_server import make_server

from celery import signals
from django.conf import settings
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client import generate_latest

from config.observability import metrics
from config.observability import processes

logger = logging.getLogger(__name__)

REPORT_CHUNK_TASK = "engagement.reports.tasks.compute_report_chunk"
REPORT_PLANNER_TASK = "engagement.reports.tasks.schedule_weekly_reports"
# Email tasks by stream, each with the kind its messages count as. The account tasks count
# their sends where they send; the invitation tasks return how many they sent (a bool or a
# number), counted here.
_ACCOUNT_EMAIL_TASKS = {
    "accounts.tasks.send_verification_email": "verification",
    "accounts.tasks.send_password_reset_email": "password_reset",
    "accounts.tasks.send_account_note": "account_note",
}
_INVITATION_EMAIL_TASKS = {
    "engagement.invitations.send_invitation": "invitation",
    "engagement.invitations.notify_inviter_of_acceptance": "accepted",
    "engagement.invitations.notify_partners_of_therapist": "therapist_joined",
}
# Email tasks: (stream, kind).
EMAIL_TASKS = {
    **{name: ("account", kind) for name, kind in _ACCOUNT_EMAIL_TASKS.items()},
    **{name: ("invitation", kind) for name, kind in _INVITATION_EMAIL_TASKS.items()},
}
COUNTS_ITS_RESULT = set(_INVITATION_EMAIL_TASKS)

_started: dict[str, float] = {}
_server: list[WSGIServer] = []


def _name(sender: Any) -> str:
    return str(getattr(sender, "name", sender) or "unknown")


def _on_prerun(sender: Any = None, task_id: str = "", **kwargs: Any) -> None:
    _started[task_id] = time.monotonic()
    if _name(sender) == REPORT_PLANNER_TASK:
        metrics.planner_started()


def _on_postrun(sender: Any = None, task_id: str = "", **kwargs: Any) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        metrics.TASK_SECONDS.labels(task=_name(sender)).observe(time.monotonic() - started)


def _on_success(sender: Any = None, result: Any = None, **kwargs: Any) -> None:
    name = _name(sender)
    metrics.TASKS.labels(task=name, outcome="succeeded").inc()
    if name in COUNTS_ITS_RESULT and isinstance(result, bool | int):
        stream, kind = EMAIL_TASKS[name]
        metrics.message(stream, kind, "sent", int(result))


def _couples(args: Iterable[Any] | None) -> int:
    first = next(iter(args or ()), None)
    return len(first) if isinstance(first, list) else 0


def _count_raised(sender: Any, args: Any, *, final: bool) -> None:
    """A task raised: it failed for good (``final``) or will be retried."""
    name = _name(sender)
    metrics.TASKS.labels(task=name, outcome="failed" if final else "retried").inc()
    if name in EMAIL_TASKS:
        metrics.message(*EMAIL_TASKS[name], "failed" if final else "retrying")
    elif name == REPORT_CHUNK_TASK:
        metrics.report_chunk_raised(_couples(args), final=final)


def _on_failure(sender: Any = None, args: Any = None, **kwargs: Any) -> None:
    _count_raised(sender, args, final=True)


def _on_retry(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    _count_raised(sender, getattr(request, "args", None), final=False)


def _on_worker_init(**kwargs: Any) -> None:
    """The worker's main process, before the pool forks: empty the directory of its group."""
    processes.prepare_multiprocess_dir(keep_pid=os.getpid())


def _on_worker_ready(**kwargs: Any) -> None:
    bind = getattr(settings, "WORKER_METRICS_BIND", "")
    if bind:
        try:
            serve(bind)
        except OSError:
            logger.exception("metrics: cannot serve the worker's metrics on %s", bind)


def _on_worker_shutdown(**kwargs: Any) -> None:
    """The main process stops: a throwaway directory the Procfile named goes with it."""
    processes.remove_throwaway_dir()


def _on_child_exit(pid: int | None = None, **kwargs: Any) -> None:
    processes.mark_dead(pid or os.getpid())


def connect() -> None:
    """Connect the handlers once (weak=False: they live as long as the process)."""
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="duet-metrics-prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="duet-metrics-postrun")
    signals.task_success.connect(_on_success, weak=False, dispatch_uid="duet-metrics-success")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="duet-metrics-failure")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="duet-metrics-retry")
    signals.celeryd_init.connect(_on_worker_init, weak=False, dispatch_uid="duet-metrics-init")
    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="duet-metrics-ready")
    signals.worker_shutdown.connect(
        _on_worker_shutdown, weak=False, dispatch_uid="duet-metrics-shutdown"
    )
    signals.worker_process_shutdown.connect(
        _on_child_exit, weak=False, dispatch_uid="duet-metrics-child-exit"
    )


# --- The worker's metrics server -----------------------------------------------------------
class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def metrics_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """WSGI: the same answers as the web's `/metrics`, without the readings of the web."""
    if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found.\n"]
    if not metrics.token_accepted(environ.get("HTTP_AUTHORIZATION", "")):
        status, headers, body = metrics.refusal(bool(getattr(settings, "METRICS_TOKEN", "")))
        reason = "Unauthorized" if status == 401 else "Not Found"
        start_response(f"{status} {reason}", list(headers.items()))
        return [body]
    output = generate_latest(metrics.scrape_registry(live=False))
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)])
    return [output]


def serve(bind: str) -> WSGIServer:
    """Serve the worker's metrics on ``host:port`` from a daemon thread of this process."""
    if not processes.multiprocess_dir():
        logger.warning(
            "metrics: PROMETHEUS_MULTIPROC_DIR is unset, so the counts of the pool's child "
            "processes are not served; set it to a directory of this worker's own"
        )
    host, _, port = bind.rpartition(":")
    server = make_server(host or "0.0.0.0", int(port), metrics_app, _Server, _Quiet)  # noqa: S104
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    _server.append(server)
    logger.info("metrics: serving the worker's metrics on %s", bind)
    return server
