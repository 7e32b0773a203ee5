"""Multi-process bookkeeping, the worker's metrics server, invitation emails, settings."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from config.observability import celery_hooks
from config.observability import processes
from tests.ops.metrics_text import now
from tests.processes import PRODUCTION_ENV
from tests.processes import manage_in_production

TOKEN = "worker-metrics-token-0123456789abcdef"


def test_a_group_start_removes_earlier_files_but_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    processes.prepare_multiprocess_dir()
    assert folder.is_dir()
    for name in ("counter_11.db", "histogram_12.db", "gauge_livesum_13.db", "counter_42.db"):
        (folder / name).write_bytes(b"x")
    (folder / "notes.txt").write_text("not ours")
    processes.prepare_multiprocess_dir(keep_pid=42)
    assert sorted(p.name for p in folder.iterdir()) == ["counter_42.db", "notes.txt"]
    processes.prepare_multiprocess_dir()
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_without_a_directory_nothing_is_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    processes.prepare_multiprocess_dir()
    processes.mark_dead(os.getpid())


def call(app: Any, path: str = "/metrics", authorization: str | None = None) -> tuple[str, str]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response)).decode()
    return seen["status"], body


@pytest.mark.parametrize("authorization", [None, "Bearer nope", f"Basic {TOKEN}", TOKEN])
def test_the_worker_refuses_a_scrape_without_the_token(
    settings: SettingsWrapper, authorization: str | None
) -> None:
    settings.METRICS_TOKEN = TOKEN
    status, body = call(celery_hooks.metrics_app, authorization=authorization)
    assert status == "401 Unauthorized"
    assert "duet_" not in body


def test_the_worker_serves_nothing_without_a_configured_token(settings: SettingsWrapper) -> None:
    settings.METRICS_TOKEN = ""
    status, body = call(celery_hooks.metrics_app, authorization="Bearer ")
    assert status == "404 Not Found"
    assert "duet_" not in body


def test_the_worker_serves_its_counts_but_not_the_webs_readings(
    settings: SettingsWrapper,
) -> None:
    settings.METRICS_TOKEN = TOKEN
    status, body = call(celery_hooks.metrics_app, authorization=f"Bearer {TOKEN}")
    assert status == "200 OK"
    assert "duet_messages_total" in body or "# TYPE duet_messages counter" in body
    assert "duet_celery_queue_depth" not in body
    assert call(celery_hooks.metrics_app, "/other", f"Bearer {TOKEN}")[0] == "404 Not Found"


@pytest.mark.django_db
def test_invitation_emails_count_what_their_task_sent(world: Any) -> None:
    from engagement.invitations.tasks import send_invitation
    from tests.factories import make_invitation

    invitation, token = make_invitation(couple=world.couple, invited_by=world.partner)
    sent = now("duet_messages_total", stream="invitation", kind="invitation", outcome="sent")
    send_invitation.delay(str(invitation.pk), token)
    assert now("duet_messages_total", stream="invitation", kind="invitation", outcome="sent") == (
        sent + 1
    )
    invitation.status = invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    send_invitation.delay(str(invitation.pk), token)  # revoked meanwhile: nothing sent
    assert now("duet_messages_total", stream="invitation", kind="invitation", outcome="sent") == (
        sent + 1
    )


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    return manage_in_production(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, **env}
    )


def test_production_refuses_a_short_metrics_token() -> None:
    result = _check(METRICS_TOKEN="short")
    assert result.returncode != 0
    assert "METRICS_TOKEN must be at least 32 characters" in result.stderr


def test_production_starts_with_sentry_and_a_metrics_token() -> None:
    result = _check(METRICS_TOKEN="m" * 40, SENTRY_DSN="http://key@127.0.0.1:9/1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_workers_throwaway_directory_goes_when_it_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, throwaway = tmp_path / "metrics-worker", tmp_path / "duet-metrics-worker-123"
    for folder in (kept, throwaway):
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
        processes.prepare_multiprocess_dir()
        (folder / "counter_1.db").write_bytes(b"x")
        processes.remove_throwaway_dir()
    assert kept.is_dir()  # a directory an operator named stays
    assert not throwaway.exists()
