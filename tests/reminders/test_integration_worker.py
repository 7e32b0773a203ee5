"""Reminders through a real Celery worker on Redis and PostgreSQL: a partner who has not checked
in gets exactly one reminder, pushed to the Web Push subscription they registered through the
API and decrypted by the test's push service; a partner who checked in gets none."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from config.celery import app as celery_app
from engagement.models import ReminderDelivery
from tests.conftest import THROUGH_THE_BROKER
from tests.factories import make_couple
from tests.processes import celery_worker
from tests.processes import wait_for
from tests.reminders.push_service import PushService

pytestmark = THROUGH_THE_BROKER


@pytest.fixture
def worker(tmp_path: Path, web_push: PushService, settings: object) -> Iterator[Path]:
    """`celery worker` on the email and default queues, with Web Push configured like the test
    (the same VAPID key, endpoints on 127.0.0.1, the service's certificate trusted)."""
    from django.conf import settings as conf

    with celery_worker(
        "email,default",
        hostname=f"reminders-test-{os.getpid()}@%h",
        log_path=tmp_path / "worker.log",
        WEBPUSH_VAPID_PRIVATE_KEY=conf.WEBPUSH_VAPID_PRIVATE_KEY,
        WEBPUSH_ENDPOINT_HOSTS="127.0.0.1",
        REQUESTS_CA_BUNDLE=web_push.ca_file,
        PUSH_FILE_PATH=str(tmp_path / "push"),
    ) as log_path:
        yield log_path


def test_a_reminder_goes_once_through_the_worker_to_a_web_push_subscription(
    worker: Path, web_push: PushService, client_for: Callable[[User | None], APIClient]
) -> None:
    # The worker reads the real clock: keep the whole test inside one UTC date.
    now = timezone.now()
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight - now < dt.timedelta(minutes=3):
        time.sleep((midnight - now).total_seconds() + 1)
    couple, forgetful, diligent, _ = make_couple()
    # Hour 0: past whatever time the test runs at, in the real clock the worker reads.
    User.objects.filter(pk__in=[forgetful.pk, diligent.pk]).update(reminder_hour=0)
    subscriptions = {}
    for user in (forgetful, diligent):
        subscriptions[user.pk] = web_push.subscription(str(user.pk))
        answer = client_for(user).post(
            "/api/v1/me/devices/",
            {"platform": "web", "token": subscriptions[user.pk].token, "name": "Browser"},
            format="json",
        )
        assert answer.status_code == 201
    today = timezone.now().date().isoformat()
    checked_in = client_for(diligent).put(
        f"/api/v1/checkins/{today}/",
        {"couple": str(couple.pk), "mood": 4, "visibility": "private"},
        format="json",
    )
    assert checked_in.status_code == 201, checked_in.json()

    celery_app.send_task("engagement.reminders.tasks.send_due_reminders")
    wait_for(lambda: web_push.received, 60, "the worker to push the reminder")
    # Run again, twice at once: the ledger lets no second reminder through.
    for _ in range(2):
        celery_app.send_task("engagement.reminders.tasks.send_due_reminders")
    wait_for(
        lambda: worker.read_text().count("send_due_reminders[") >= 6, 60, "the reruns to finish"
    )
    time.sleep(2)

    [received] = web_push.received
    assert received.path == f"/push/{forgetful.pk}"
    payload = json.loads(received.decrypt(subscriptions[forgetful.pk]))
    assert payload["body"] == "Time for your Duet check-in"
    assert list(ReminderDelivery.objects.values_list("user_id", "status")) == [
        (forgetful.pk, "sent")
    ]
