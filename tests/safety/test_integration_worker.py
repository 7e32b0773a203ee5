"""A safety alert through a real Celery worker on Redis and PostgreSQL: a partner's
`afraid_or_hurt: true` PUT, and within a minute each therapist has one email on a real SMTP
server; a retried PUT and a second run send nothing more."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from config.celery import app as celery_app
from engagement.models import Membership
from engagement.models import SafetyAlert
from engagement.models import SafetyAlertDelivery
from tests.conftest import THROUGH_THE_BROKER
from tests.factories import TherapistFactory
from tests.factories import make_couple
from tests.processes import celery_worker
from tests.processes import wait_for
from tests.smtp import Mailbox

pytestmark = THROUGH_THE_BROKER


@pytest.fixture
def worker(tmp_path: Path, smtp_mailbox: Mailbox) -> Iterator[Path]:
    """`celery worker` on the email and default queues; this process queues, not runs, tasks."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    with (
        _restored_eagerness(eager),
        celery_worker(
            "email,default",
            hostname=f"safety-test-{os.getpid()}@%h",
            log_path=tmp_path / "worker.log",
            DJANGO_SETTINGS_MODULE="tests.safety.worker_settings",
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_mailbox.port}",
            PUSH_FILE_PATH=str(tmp_path / "push"),
        ) as log_path,
    ):
        yield log_path


@contextmanager
def _restored_eagerness(eager: bool) -> Iterator[None]:
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager


def test_an_alert_reaches_each_therapist_once_within_a_minute(
    worker: Path, smtp_mailbox: Mailbox, client_for: Callable[[User | None], APIClient]
) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    second = TherapistFactory.create()
    Membership.objects.create(couple=couple, user=second, role="therapist")
    body = {
        "couple": str(couple.pk),
        "visibility": "private",
        "mood": 2,
        "afraid_or_hurt": True,
    }
    url = f"/api/v1/checkins/{timezone.now().date()}/"
    started = time.monotonic()
    answer = client_for(partner).put(url, body, format="json")
    assert answer.status_code == 201
    assert answer.json()["safety_resources"]

    wait_for(lambda: len(smtp_mailbox.messages) >= 2, 60, "both therapists' alert emails")
    assert time.monotonic() - started < 60
    # A retried PUT, and the task queued again: nothing more.
    assert client_for(partner).put(url, body, format="json").status_code == 200
    alert = SafetyAlert.objects.get()
    celery_app.send_task("engagement.safety.tasks.send_safety_alert", args=[str(alert.pk)])
    wait_for(
        lambda: worker.read_text().count("send_safety_alert[") >= 4,
        30,
        "the second run to finish",
    )
    time.sleep(1)
    assert sorted(r for m in smtp_mailbox.messages for r in m.recipients) == sorted(
        [therapist.email, second.email]
    )
    assert other.email not in str([m.recipients for m in smtp_mailbox.messages])
    message = smtp_mailbox.only(therapist.email)
    assert couple.name in message.text
    assert f"/safety-alerts/{alert.pk}" in message.text
    assert set(SafetyAlertDelivery.objects.values_list("status", flat=True)) == {"sent"}
