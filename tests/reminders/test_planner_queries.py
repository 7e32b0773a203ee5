"""The planner reads a chunk of users in a fixed number of queries, whatever its size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Device
from accounts.models import User
from engagement.models import CheckIn
from engagement.models import ReminderDelivery
from engagement.reminders import planner
from tests.factories import couples_in_bulk

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 20, 5, tzinfo=dt.UTC)


def _seed(couples: int) -> list[User]:
    users = User.objects.bulk_create(
        User(
            email=f"r{i}@example.com",
            display_name=f"R {i}",
            password="!",
            email_verified_at=NOW,
            reminder_email=i % 3 == 0,
            timezone=("UTC", "Europe/Madrid", "America/Mexico_City")[i % 3],
            reminder_hour=(20, 8, 13)[i % 3],
        )
        for i in range(2 * couples)
    )
    made = couples_in_bulk(users)
    Device.objects.bulk_create(
        Device(user=u, platform="android", token=f"t{i}", token_digest=f"d{i}")
        for i, u in enumerate(users)
        if i % 2
    )
    CheckIn.objects.bulk_create(
        CheckIn(couple=made[i // 2], author=u, date=NOW.date(), mood=3, visibility="private")
        for i, u in enumerate(users)
        if i % 4 == 1
    )
    ReminderDelivery.objects.bulk_create(
        ReminderDelivery(
            user=u, local_date=NOW.date() - dt.timedelta(days=1), channel="push", status="sent"
        )
        for u in users[::5]
    )
    return list(planner.candidates())


def test_planning_costs_the_same_queries_for_10_users_as_for_500(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    users = _seed(250)
    with CaptureQueriesContext(connection) as small:
        planned_small = planner.plan(users[:10], now=NOW)
    with django_assert_max_num_queries(len(small.captured_queries)):
        planned = planner.plan(users[:500], now=NOW)
    # Seats, check-ins, last check-ins, days away, the ledger, devices.
    assert len(small.captured_queries) == 6
    assert planned_small
    assert len(planned) > len(planned_small)
    # Who was planned follows the rules: nobody who checked in, each by the right channel.
    checked_in = set(CheckIn.objects.values_list("author_id", flat=True))
    with_device = set(Device.objects.values_list("user_id", flat=True))
    for item in planned:
        assert item.channel == ("push" if item.user.id in with_device else "email")
        if item.channel == "push":
            assert item.user.id not in checked_in


def test_finding_who_is_due_costs_two_queries_a_page(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    _seed(60)
    with django_assert_max_num_queries(2 * 3):  # 120 users in pages of 50
        pages = list(planner.due_user_ids(now=NOW, chunk_size=50))
    assert sum(len(page) for page in pages) > 0
