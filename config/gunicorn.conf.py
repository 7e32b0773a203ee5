"""gunicorn settings for production, overridable from the environment."""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# Access lines would carry query strings (unsubscribe tokens): log errors only.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl),
# shared by every gunicorn on the host; nothing here uses it, so it stays off.
control_socket_disable = True

# --- Metrics (issue 21): every worker counts into files of this gunicorn's own directory ---
# Several workers answer `/metrics` in turn, so each must see the others' counts:
# prometheus-client's multiprocess mode, in PROMETHEUS_MULTIPROC_DIR, or else a private
# temporary directory (set here, in the master, before any worker imports the client).
_own_metrics_dir = ""
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    _own_metrics_dir = tempfile.mkdtemp(prefix="duet-metrics-web-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir


def on_starting(server: object) -> None:
    """The master, before the first fork: the counts of a previous run are not this one's."""
    from config.observability.processes import prepare_multiprocess_dir

    prepare_multiprocess_dir()


def child_exit(server: object, worker: object) -> None:
    """A worker exited (max_requests, a crash, a timeout): mark it dead for the live gauges."""
    from config.observability.processes import mark_dead

    mark_dead(int(getattr(worker, "pid", 0)))


def on_exit(server: object) -> None:
    """The master stops: a temporary directory it made goes with it."""
    if _own_metrics_dir:
        import shutil

        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
