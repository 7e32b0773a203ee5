"""The other partner, reading a shared inbox or holding a phone, tries to learn from reminders
and devices what the partner keeps private."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import CheckInFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db
AT_20 = dt.datetime(2026, 11, 23, 20, 5, tzinfo=dt.UTC)


def _reminder_days_seen_in_the_inboxes(users: list[User], days: int) -> list[list[int]]:
    """For each user, the days (from AT_20) a reminder reached their inbox."""
    seen: list[list[int]] = [[] for _ in users]
    for n in range(days):
        mail.outbox.clear()
        with time_machine.travel(AT_20 + dt.timedelta(days=n), tick=False):
            call_command("send_reminders", stdout=io.StringIO())
        for i, user in enumerate(users):
            if any(m.to == [user.email] for m in mail.outbox):
                seen[i].append(n)
    return seen


def test_a_shared_inbox_sees_the_same_reminders_whether_or_not_she_checks_in_privately() -> None:
    # Two partners with email reminders: one checks in privately every day, one never does.
    # Whoever reads their inbox must not be able to tell them apart.
    with time_machine.travel(AT_20 - dt.timedelta(days=30), tick=False):
        couple, private_one, absent_one, _ = make_couple()
    User.objects.filter(pk__in=[private_one.pk, absent_one.pk]).update(reminder_email=True)
    for n in range(14):
        CheckInFactory.create(
            couple=couple,
            author=private_one,
            date=AT_20.date() + dt.timedelta(days=n),
            visibility="private",
        )
    private_days, absent_days = _reminder_days_seen_in_the_inboxes([private_one, absent_one], 14)
    assert private_days == absent_days == [0, 1, 2, 9]


def test_the_other_partner_learns_nothing_of_the_partners_devices(
    client_for: Callable[[User | None], APIClient],
) -> None:
    couple, partner, other, _ = make_couple()
    mine = client_for(partner).post(
        "/api/v1/me/devices/",
        {"platform": "android", "token": "fcm:APA91b" + "s" * 50, "name": "Work phone"},
        format="json",
    )
    assert mine.status_code == 201
    snoop = client_for(other)
    assert snoop.get("/api/v1/me/devices/").json()["results"] == []
    assert snoop.get("/api/v1/me/export/").json()["devices"] == []
    assert snoop.delete(f"/api/v1/me/devices/{mine.json()['id']}/").status_code == 404
    couple_page = snoop.get(f"/api/v1/couples/{couple.pk}/").content.decode()
    assert "Work phone" not in couple_page
