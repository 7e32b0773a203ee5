"""Multi-process bookkeeping of the metrics: gunicorn workers and Celery prefork children.

Each process counts into files of its own under PROMETHEUS_MULTIPROC_DIR (prometheus-client's
multiprocess mode) and a scrape sums them. The directory belongs to one process group (one
gunicorn, or one Celery worker): it is emptied when the group starts, so that the files of a
previous run are not summed with this one's, and a process that exits is marked dead so its
live gauges leave the sums. Nothing here imports Django: gunicorn's master loads it first.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str:
    """The directory of this process group, or '' when metrics live in this process only."""
    return os.environ.get(ENV, "")


def prepare_multiprocess_dir(*, keep_pid: int | None = None) -> None:
    """Create the directory and remove the files of earlier runs (all but ``keep_pid``'s)."""
    path = multiprocess_dir()
    if not path:
        return
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    removed = 0
    for file in folder.glob("*.db"):
        if keep_pid is not None and file.stem.rpartition("_")[2] == str(keep_pid):
            continue
        file.unlink(missing_ok=True)
        removed += 1
    if removed:
        logger.info("metrics: removed %d files of an earlier run from %s", removed, path)


def mark_dead(pid: int) -> None:
    """A process of the group exited: its live gauges stop counting; its counters stay."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


# The Procfile's default for a worker: a directory per start, named after the shell's pid.
THROWAWAY_PREFIX = "duet-metrics-worker-"


def remove_throwaway_dir() -> None:
    """Remove the directory when it is one of the Procfile's per-start defaults."""
    path = multiprocess_dir()
    if path and Path(path).name.startswith(THROWAWAY_PREFIX):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
