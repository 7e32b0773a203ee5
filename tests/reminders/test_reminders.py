"""Check-in reminders (SPEC section 6): one at the user's hour to those who have not checked in
today, by push (or by email with no device and `reminder_email` on), exactly once per local
date, with the back-off after three unheeded ones; an email never reveals a private check-in."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Device
from accounts.models import User
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import ReminderDelivery
from engagement.reminders import delivery
from engagement.reminders import planner
from tests.factories import CheckInFactory
from tests.factories import make_couple
from tests.pushes import written_pushes
from tests.reminders.push_service import PushService

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 23)
AT_20 = dt.datetime(2026, 11, 23, 20, 5, tzinfo=dt.UTC)
FCM_TOKEN = "fcm:APA91b" + "r" * 60


def _at(moment: dt.datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def _run() -> str:
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def _device(user: User, token: str = FCM_TOKEN, platform: str = "android") -> Device:
    return Device.objects.create(
        user=user,
        platform=platform,
        token=token,
        token_digest=hashlib.sha256(f"{token}-{user.pk}".encode()).hexdigest(),
    )


@pytest.fixture
def couple() -> tuple[Couple, User, User]:
    with _at(AT_20 - dt.timedelta(days=30)):
        c, partner, other, _ = make_couple()
    return c, partner, other


@pytest.fixture
def partner(couple: tuple[Couple, User, User]) -> User:
    user = couple[1]
    _device(user)
    return user


def _by_email(couple: tuple[Couple, User, User], **fields: Any) -> User:
    """The couple's first partner, with email reminders on (and ``fields`` set)."""
    user = couple[1]
    User.objects.filter(pk=user.pk).update(reminder_email=True, **fields)
    return user


def _pushes_to(folder: Path, user: User) -> list[dict[str, Any]]:
    ids = {str(i) for i in Device.objects.filter(user=user).values_list("id", flat=True)}
    return [p for p in written_pushes(folder) if p["device"] in ids]


def test_a_partner_who_has_not_checked_in_gets_one_push_at_their_hour(
    partner: User, push_folder: Path
) -> None:
    with _at(AT_20 - dt.timedelta(minutes=10)):
        _run()
    assert written_pushes(push_folder) == []
    with _at(AT_20):
        output = _run()
        _run()
    with _at(AT_20 + dt.timedelta(hours=3)):
        _run()
    assert "pushed to the user's devices" in output
    [push] = _pushes_to(push_folder, partner)
    assert (push["title"], push["body"]) == ("Duet", "Time for your Duet check-in")
    row = ReminderDelivery.objects.get(user=partner)
    assert (row.local_date, row.channel, row.status) == (DAY, "push", "sent")


def test_no_reminder_after_checking_in_whatever_its_visibility(
    couple: tuple[Couple, User, User], partner: User, push_folder: Path
) -> None:
    CheckInFactory.create(couple=couple[0], author=partner, date=DAY, visibility="private")
    with _at(AT_20):
        _run()
    assert _pushes_to(push_folder, partner) == []
    assert not ReminderDelivery.objects.filter(user=partner).exists()


def test_the_other_partners_check_in_does_not_count(
    couple: tuple[Couple, User, User], partner: User, push_folder: Path
) -> None:
    CheckInFactory.create(couple=couple[0], author=couple[2], date=DAY)
    with _at(AT_20):
        _run()
    assert len(_pushes_to(push_folder, partner)) == 1


def test_an_email_reminder_counts_only_shared_check_ins_and_names_no_one(
    couple: tuple[Couple, User, User], settings: Any
) -> None:
    settings.SITE_URL = "https://api.duet.test"
    user = _by_email(couple, display_name="Robin Example")
    # A private check-in: whoever shares the inbox must not learn of it by a missing reminder.
    CheckInFactory.create(couple=couple[0], author=user, date=DAY, visibility="private")
    with _at(AT_20):
        _run()
    [message] = [m for m in mail.outbox if m.to == [user.email]]
    assert message.subject == "Time for your Duet check-in"
    html = getattr(message, "alternatives", [("", "")])[0][0]
    assert "check-in" in str(html)
    for part in (message.subject, message.body, str(html)):
        assert "Robin" not in part
        assert couple[2].display_name not in part
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ReminderDelivery.objects.get(user=user).channel == "email"


def test_a_shared_check_in_stops_the_email_reminder(couple: tuple[Couple, User, User]) -> None:
    user = _by_email(couple)
    CheckInFactory.create(couple=couple[0], author=user, date=DAY, visibility="couple")
    with _at(AT_20):
        _run()
    assert mail.outbox == []


def test_with_a_device_there_is_no_email_and_without_either_nothing(
    couple: tuple[Couple, User, User], push_folder: Path
) -> None:
    with_device, without = couple[1], couple[2]
    User.objects.filter(pk__in=[with_device.pk, without.pk]).update(reminder_email=True)
    _device(with_device)
    User.objects.filter(pk=without.pk).update(reminder_email=False)
    with _at(AT_20):
        _run()
    assert mail.outbox == []
    assert len(written_pushes(push_folder)) == 1
    assert not ReminderDelivery.objects.filter(user=without).exists()


@pytest.mark.parametrize(
    "case", ["reminders_off", "therapist", "paused_couple", "left_couple", "erased", "ended"]
)
def test_who_gets_no_reminder(
    couple: tuple[Couple, User, User], partner: User, push_folder: Path, case: str
) -> None:
    c = couple[0]
    if case == "reminders_off":
        User.objects.filter(pk=partner.pk).update(checkin_reminder=False)
    elif case == "therapist":
        Membership.objects.filter(user=partner).update(role="therapist", partner_slot=None)
    elif case == "paused_couple":
        Couple.objects.filter(pk=c.pk).update(status="paused")
    elif case == "ended":
        Couple.objects.filter(pk=c.pk).update(status="ended")
    elif case == "left_couple":
        Membership.objects.filter(user=partner).update(left_at=timezone.now(), partner_slot=None)
    elif case == "erased":
        User.objects.filter(pk=partner.pk).update(is_active=False, erased_at=timezone.now())
    with _at(AT_20):
        _run()
    assert _pushes_to(push_folder, partner) == []


def test_the_hour_is_the_users_and_the_date_the_couples(
    couple: tuple[Couple, User, User], partner: User, push_folder: Path
) -> None:
    # The user is in Mexico City (UTC-6): 20:00 there is 02:00 UTC the next day. The couple
    # lives in Madrid (UTC+1), where it is already 03:00 of the 24th by then.
    User.objects.filter(pk=partner.pk).update(timezone="America/Mexico_City")
    Couple.objects.filter(pk=couple[0].pk).update(timezone="Europe/Madrid")
    CheckInFactory.create(couple=couple[0], author=partner, date=DAY)  # the 23rd in Madrid
    with _at(AT_20):
        _run()
    assert _pushes_to(push_folder, partner) == []
    with _at(dt.datetime(2026, 11, 24, 2, 5, tzinfo=dt.UTC)):
        _run()
    assert len(_pushes_to(push_folder, partner)) == 1
    assert ReminderDelivery.objects.get(user=partner).local_date == DAY  # Mexico City's date


def _days(user: User, first: int, last: int) -> list[int]:
    """Run the reminders at 20:05 each day from DAY+first to DAY+last; the days one went out."""
    sent = []
    for n in range(first, last + 1):
        before = ReminderDelivery.objects.filter(user=user, status="sent").count()
        with _at(AT_20 + dt.timedelta(days=n)):
            _run()
        if ReminderDelivery.objects.filter(user=user, status="sent").count() > before:
            sent.append(n)
    return sent


def test_after_three_unheeded_reminders_only_one_a_week_until_a_check_in(
    couple: tuple[Couple, User, User], partner: User
) -> None:
    assert _days(partner, 0, 16) == [0, 1, 2, 9, 16]
    # A check-in (after the reminder of day 16) resets the back-off.
    CheckInFactory.create(
        couple=couple[0], author=partner, date=DAY + dt.timedelta(days=16), visibility="private"
    )
    assert _days(partner, 17, 20) == [17, 18, 19]


def test_the_email_back_off_ignores_private_check_ins(couple: tuple[Couple, User, User]) -> None:
    user = _by_email(couple)
    assert _days(user, 0, 2) == [0, 1, 2]
    # A private check-in on day 3 (the email is sent anyway: it counts only shared ones) must
    # not reset the back-off either, or the inbox would learn of it.
    CheckInFactory.create(
        couple=couple[0], author=user, date=DAY + dt.timedelta(days=3), visibility="private"
    )
    assert _days(user, 3, 9) == [9]
    CheckInFactory.create(
        couple=couple[0], author=user, date=DAY + dt.timedelta(days=10), visibility="couple"
    )
    assert _days(user, 11, 12) == [11, 12]


def test_two_runs_at_once_send_one_reminder(partner: User, push_folder: Path) -> None:
    with _at(AT_20):
        users = [User.objects.get(pk=partner.pk)]
        first = planner.plan(users, now=AT_20)
        second = planner.plan(users, now=AT_20)  # planned before the first one claimed
        rows = delivery.ledger(first)
        delivery.ledger(second)
        row = rows[(partner.id, DAY)]
        assert delivery.claim(row.id, channel="push") is not None
        assert delivery.claim(row.id, channel="push") is None
        # A third run, while the claim is held: it sends nothing either.
        counts = delivery.send_reminders(users, now=AT_20)
    assert counts["push_sent"] == 0
    assert written_pushes(push_folder) == []
    assert ReminderDelivery.objects.count() == 1


def test_a_crash_mid_send_is_outcome_unknown_and_never_resent(
    partner: User, push_folder: Path
) -> None:
    with (
        _at(AT_20),
        mock.patch("engagement.reminders.delivery.push_send", side_effect=SystemExit),
        pytest.raises(SystemExit),
    ):
        _run()
    row = ReminderDelivery.objects.get(user=partner)
    assert row.status == "failed"
    assert row.error.startswith("outcome unknown")
    with _at(AT_20 + dt.timedelta(minutes=15)):
        _run()
    assert written_pushes(push_folder) == []


def test_a_claim_whose_worker_died_is_released_as_unknown_and_not_resent(
    partner: User, push_folder: Path
) -> None:
    with _at(AT_20):
        [item] = planner.plan([User.objects.get(pk=partner.pk)], now=AT_20)
        row = delivery.ledger([item])[(partner.id, DAY)]
        assert delivery.claim(row.id, channel="push") is not None  # and then the worker died
    with _at(AT_20 + dt.timedelta(minutes=45)):
        output = _run()
    assert "abandoned claim" in output
    row.refresh_from_db()
    assert (row.status, row.error.startswith("outcome unknown")) == ("failed", True)
    assert written_pushes(push_folder) == []


def test_a_pending_row_of_a_user_no_longer_due_is_skipped(
    couple: tuple[Couple, User, User], partner: User, push_folder: Path
) -> None:
    with _at(AT_20):
        [item] = planner.plan([User.objects.get(pk=partner.pk)], now=AT_20)
        delivery.ledger([item])  # the run stopped here
    CheckInFactory.create(couple=couple[0], author=partner, date=DAY)
    with _at(AT_20 + dt.timedelta(minutes=15)):
        _run()
    assert ReminderDelivery.objects.get(user=partner).status == "skipped"
    assert written_pushes(push_folder) == []


def test_the_reminder_is_in_the_users_language(
    partner: User, couple: tuple[Couple, User, User], push_folder: Path
) -> None:
    User.objects.filter(pk=partner.pk).update(language="es")
    other = couple[2]
    User.objects.filter(pk=other.pk).update(language="es", reminder_email=True)
    with _at(AT_20):
        _run()
    [push] = _pushes_to(push_folder, partner)
    assert push["body"] == "Es hora de tu check-in en Duet"
    [message] = mail.outbox
    assert message.subject == "Es hora de tu check-in en Duet"
    assert "Un minuto para ti" in message.body
    assert "A minute" not in message.body
    assert message.extra_headers["Content-Language"] == "es"


def test_the_one_click_link_of_a_reminder_turns_email_reminders_off_only(
    couple: tuple[Couple, User, User], settings: Any
) -> None:
    settings.SITE_URL = "http://testserver"
    user = _by_email(couple)
    with _at(AT_20):
        _run()
    [message] = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    parts = urlsplit(url)
    token = parse_qs(parts.query)["token"][0]
    client = APIClient()
    page = client.get(parts.path, {"token": token})
    assert page.status_code == 200
    assert b"reminders" in page.content
    user.refresh_from_db()
    assert user.reminder_email is True  # a GET changes nothing
    done = client.post(
        f"{parts.path}?{parts.query}", {"List-Unsubscribe": "One-Click"}, format="multipart"
    )
    assert done.status_code == 200
    user.refresh_from_db()
    assert (user.reminder_email, user.weekly_digest, user.checkin_reminder) == (False, True, True)


def test_a_reminder_reaches_a_web_push_subscription_end_to_end(
    couple: tuple[Couple, User, User], web_push: PushService
) -> None:
    user = couple[1]
    User.objects.filter(pk=user.pk).update(language="es")
    subscription = web_push.subscription("robin")
    client = APIClient()
    from accounts.authentication import issue_tokens

    with _at(AT_20 - dt.timedelta(hours=1)):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
        answer = client.post(
            "/api/v1/me/devices/", {"platform": "web", "token": subscription.token}, format="json"
        )
        assert answer.status_code == 201
    with _at(AT_20):
        _run()
        _run()
    [received] = web_push.received
    assert json.loads(received.decrypt(subscription))["body"] == "Es hora de tu check-in en Duet"
    # The next day the browser has dropped the subscription: the device goes.
    web_push.gone_once.add("/push/robin")
    with _at(AT_20 + dt.timedelta(days=1)):
        _run()
    assert not Device.objects.filter(user=user).exists()
    assert ReminderDelivery.objects.get(
        user=user, local_date=DAY + dt.timedelta(days=1)
    ).status == ("failed")


def test_the_unsubscribe_page_of_a_spanish_speakers_reminder_is_in_spanish(
    couple: tuple[Couple, User, User], settings: Any
) -> None:
    settings.SITE_URL = "http://testserver"
    _by_email(couple, language="es")
    with _at(AT_20):
        _run()
    [message] = mail.outbox
    parts = urlsplit(message.extra_headers["List-Unsubscribe"].strip("<>"))
    page = APIClient().get(parts.path, {"token": parse_qs(parts.query)["token"][0]})
    assert page.status_code == 200
    assert page["Content-Language"] == "es"
    text = page.content.decode()
    assert "¿Dejar de recibir los recordatorios por correo?" in text
    assert "Darme de baja" in text
    assert "Stop" not in text
