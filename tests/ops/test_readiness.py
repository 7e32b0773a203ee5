"""`/readyz`: degraded (still 200, with reasons) when beat's heartbeat is older than twice
its period; unavailable (503) when the database or the broker does not answer."""

from __future__ import annotations

from unittest import mock

import pytest
import time_machine
from rest_framework.test import APIClient

from config.tasks import heartbeat

pytestmark = pytest.mark.django_db

BEAT = "2026-12-01T10:00:00+00:00"


def readyz(client: APIClient, at: str) -> tuple[int, dict[str, object]]:
    with time_machine.travel(at, tick=False):
        response = client.get("/readyz")
    return response.status_code, response.json()


def test_a_fresh_heartbeat_is_ok(api_client: APIClient) -> None:
    with time_machine.travel(BEAT, tick=False):
        heartbeat()
    status, body = readyz(api_client, "2026-12-01T10:02:00+00:00")  # exactly twice the period
    assert status == 200
    assert body == {"status": "ok", "checks": {"database": True, "broker": True}, "reasons": []}


def test_a_heartbeat_older_than_twice_its_period_is_degraded_but_still_ready(
    api_client: APIClient,
) -> None:
    with time_machine.travel(BEAT, tick=False):
        heartbeat()
    status, body = readyz(api_client, "2026-12-01T10:02:01+00:00")
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": True, "broker": True}
    reasons = body["reasons"]
    assert isinstance(reasons, list)
    assert [r["code"] for r in reasons] == ["beat_silent"]
    assert "121 s ago" in reasons[0]["detail"]
    assert "every 60 s" in reasons[0]["detail"]

    # Beat is back: the next heartbeat clears it.
    with time_machine.travel("2026-12-01T10:05:00+00:00", tick=False):
        heartbeat()
    assert readyz(api_client, "2026-12-01T10:05:30+00:00")[1]["status"] == "ok"


def test_no_heartbeat_on_record_is_degraded(api_client: APIClient) -> None:
    status, body = readyz(api_client, BEAT)
    assert status == 200
    assert body["status"] == "degraded"
    assert "never on record" in body["reasons"][0]["detail"]  # type: ignore[index]


def test_the_limit_follows_the_heartbeat_period(api_client: APIClient) -> None:
    from config.celery import app

    schedule = app.conf.beat_schedule["worker-heartbeat"]
    with mock.patch.dict(schedule, {"schedule": 5.0}):
        with time_machine.travel(BEAT, tick=False):
            heartbeat()
        assert readyz(api_client, "2026-12-01T10:00:10+00:00")[1]["status"] == "ok"
        assert readyz(api_client, "2026-12-01T10:00:11+00:00")[1]["status"] == "degraded"


def test_a_dead_broker_is_unavailable_whatever_beat_says(api_client: APIClient) -> None:
    with time_machine.travel(BEAT, tick=False):
        heartbeat()
    with mock.patch("config.api.views._broker_ready", return_value=False):
        status, body = readyz(api_client, "2026-12-01T10:10:00+00:00")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": True, "broker": False}
    assert [r["code"] for r in body["reasons"]] == ["beat_silent"]  # type: ignore[attr-defined]


def test_readyz_says_nothing_personal_and_needs_no_sign_in(api_client: APIClient) -> None:
    from tests.factories import UserFactory

    user = UserFactory.create()
    with time_machine.travel(BEAT, tick=False):
        heartbeat(token=user.email)  # a caller's proof token never shows
    status, body = readyz(api_client, "2026-12-01T10:00:30+00:00")
    assert status == 200
    assert user.email not in str(body)
