"""Safety alerts: raised and retracted by the check-in's answer, delivered once to each
therapist by email and push, sent again after 24 hours unacknowledged, and read only by the
couple's therapists."""

from __future__ import annotations

import datetime as dt
import smtplib
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Device
from engagement.models import CheckIn
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models import SafetyAlertDelivery
from engagement.models import WeeklyReport
from engagement.safety import delivery
from engagement.safety.tasks import send_safety_alert
from engagement.safety.tasks import sweep_safety_alerts
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import TherapistFactory
from tests.factories import make_couple
from tests.pushes import written_pushes
from tests.timestamps import api_timestamp

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/safety-alerts/"


def _html(message: mail.EmailMessage) -> str:
    assert isinstance(message, mail.EmailMultiAlternatives)
    return str(message.alternatives[0][0])


def _day() -> dt.date:
    return timezone.now().date()


def _put(client: APIClient, couple: Couple, **fields: Any) -> Any:
    body = {"couple": str(couple.pk), "visibility": "private", "mood": 3, **fields}
    return client.put(f"/api/v1/checkins/{_day()}/", body, format="json")


def _sweep_after(delta: dt.timedelta, times: int = 1) -> None:
    """The safety sweep, run ``times`` over from ``delta`` after now."""
    with time_machine.travel(timezone.now() + delta):
        for _ in range(times):
            sweep_safety_alerts.delay()


@pytest.fixture
def answered(
    world: World, client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> SafetyAlert:
    """The partner answered true on a private check-in; the alert went out (eager task)."""
    with django_capture_on_commit_callbacks(execute=True):
        assert _put(client_for(world.partner), world.couple, afraid_or_hurt=True).status_code == 201
    return SafetyAlert.objects.get()


# --- raised and retracted -------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["private", "therapist", "couple"])
def test_a_true_answer_raises_one_alert_whatever_the_visibility(
    world: World, client_for: ClientFor, visibility: str
) -> None:
    _put(client_for(world.partner), world.couple, visibility=visibility, afraid_or_hurt=True)
    alert = SafetyAlert.objects.get()
    checkin = CheckIn.objects.get()
    assert (alert.couple_id, alert.partner_id, alert.checkin_id, alert.date) == (
        world.couple.pk,
        world.partner.pk,
        checkin.pk,
        _day(),
    )
    assert alert.retracted_at is None
    assert alert.acknowledged_at is None


def test_editing_the_answer_back_retracts_and_a_new_true_raises_another(
    world: World, client_for: ClientFor
) -> None:
    author = client_for(world.partner)
    _put(author, world.couple, afraid_or_hurt=True)
    _put(author, world.couple, afraid_or_hurt=False)
    first = SafetyAlert.objects.get()
    assert first.retracted_at is not None
    assert first.date == _day()
    _put(author, world.couple, afraid_or_hurt=None)
    assert SafetyAlert.objects.count() == 1
    _put(author, world.couple, afraid_or_hurt=True)
    assert SafetyAlert.objects.count() == 2
    assert SafetyAlert.objects.filter(retracted_at__isnull=True).count() == 1


def test_deleting_the_checkin_retracts_and_keeps_the_alert(
    world: World, client_for: ClientFor
) -> None:
    author = client_for(world.partner)
    _put(author, world.couple, afraid_or_hurt=True)
    deleted = author.delete(f"/api/v1/checkins/{_day()}/?couple={world.couple.pk}")
    assert deleted.status_code == 204
    alert = SafetyAlert.objects.get()
    assert alert.checkin_id is None
    assert alert.retracted_at is not None
    assert alert.date == _day()
    listed = client_for(world.therapist).get(ALERTS).json()["results"]
    assert [row["id"] for row in listed] == [str(alert.pk)]
    assert listed[0]["retracted_at"] is not None


def test_a_therapist_who_joins_later_is_not_alerted_to_earlier_answers(
    client_for: ClientFor,
) -> None:
    couple, a, _, _ = make_couple(therapist=False)
    _put(client_for(a), couple, afraid_or_hurt=True)
    therapist = TherapistFactory.create()
    Membership.objects.create(couple=couple, user=therapist, role="therapist")
    _put(client_for(a), couple, afraid_or_hurt=True, mood=2)  # the same answer, kept
    assert not SafetyAlert.objects.exists()
    assert client_for(therapist).get(ALERTS).json()["results"] == []


def test_raising_and_retracting_an_alert_mark_its_weeks_report_stale(
    world: World, client_for: ClientFor
) -> None:
    from tests.engagement.reports.test_reports_api import stored_report

    monday = _day() - dt.timedelta(days=_day().weekday())
    report = stored_report(world.couple, world.partner, world.other_partner, week=monday)
    author = client_for(world.partner)
    _put(author, world.couple, afraid_or_hurt=False)
    WeeklyReport.objects.update(stale=False)
    _put(author, world.couple, afraid_or_hurt=True)
    report.refresh_from_db()
    assert report.stale
    WeeklyReport.objects.update(stale=False)
    _put(author, world.couple, afraid_or_hurt=False)
    report.refresh_from_db()
    assert report.stale


# --- delivery ------------------------------------------------------------------------------------


def test_each_therapist_gets_one_email_naming_the_couple_and_nothing_of_the_checkin(
    world: World, client_for: ClientFor, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    second = TherapistFactory.create(language="es")
    Membership.objects.create(couple=world.couple, user=second, role="therapist")
    with django_capture_on_commit_callbacks(execute=True):
        _put(
            client_for(world.partner),
            world.couple,
            afraid_or_hurt=True,
            note="He shouted at me again",
            mood=1,
        )
    alert = SafetyAlert.objects.get()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.therapist.email, second.email])
    for message in mail.outbox:
        text = message.body + _html(message)
        assert world.couple.name in text
        assert f"{settings.FRONTEND_URL}/safety-alerts/{alert.pk}" in text
        assert f"/couples/{world.couple.pk}/safe-contact?partner={world.partner.pk}" in text
        for secret in ("shouted", world.partner.display_name, world.partner.email, "mood"):
            assert secret not in text
            assert secret not in message.subject
        assert world.other_partner.email not in message.to
    spanish = next(m for m in mail.outbox if m.to == [second.email])
    assert spanish.extra_headers["Content-Language"] == "es"
    assert "alerta" in spanish.subject.lower()
    rows = SafetyAlertDelivery.objects.filter(alert=alert)
    assert sorted(r.status for r in rows) == ["sent", "sent"]


def test_the_push_names_no_one(
    world: World, client_for: ClientFor, django_capture_on_commit_callbacks: Any, push_folder: Path
) -> None:
    Device.objects.create(
        user=world.therapist, platform="android", token="t-fcm", token_digest="1" * 64
    )
    Device.objects.create(
        user=world.other_partner, platform="android", token="p-fcm", token_digest="2" * 64
    )
    with django_capture_on_commit_callbacks(execute=True):
        _put(client_for(world.partner), world.couple, afraid_or_hurt=True)
    pushes = written_pushes(push_folder)
    assert [(p["title"], p["body"]) for p in pushes] == [("Duet", "A client needs your attention")]
    assert pushes[0]["device"] == str(Device.objects.get(user=world.therapist).pk)


def test_the_other_partner_gets_nothing_by_any_channel(
    world: World, client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _put(client_for(world.partner), world.couple, afraid_or_hurt=True, visibility="couple")
    recipients = {address for m in mail.outbox for address in m.to}
    assert recipients == {world.therapist.email}


def test_a_task_run_twice_or_a_retried_put_sends_nothing_twice(
    world: World,
    client_for: ClientFor,
    answered: SafetyAlert,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert len(mail.outbox) == 1
    send_safety_alert.delay(str(answered.pk))
    send_safety_alert.delay(str(answered.pk))
    with django_capture_on_commit_callbacks(execute=True):
        _put(client_for(world.partner), world.couple, afraid_or_hurt=True)
    sweep_safety_alerts.delay()
    assert len(mail.outbox) == 1
    assert SafetyAlertDelivery.objects.count() == 1


def test_a_worker_dying_mid_send_is_never_resent_and_shows_to_operators(
    world: World, client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    killed = mock.patch("django.core.mail.EmailMessage.send", side_effect=SystemExit("killed"))
    with killed, pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
        _put(client_for(world.partner), world.couple, afraid_or_hurt=True)
    row = SafetyAlertDelivery.objects.get()
    assert row.status == "failed"
    assert "outcome unknown" in row.error
    sweep_safety_alerts.delay()
    send_safety_alert.delay(str(row.alert_id))
    assert mail.outbox == []
    assert list(delivery.unsent(now=timezone.now())) == [row]


def test_a_claim_whose_worker_vanished_becomes_outcome_unknown(
    world: World, client_for: ClientFor
) -> None:
    _put(client_for(world.partner), world.couple, afraid_or_hurt=True)  # on_commit not run
    alert = SafetyAlert.objects.get()
    delivery.plan(alert, round=1)
    row = SafetyAlertDelivery.objects.get()
    assert delivery.claim(row.id) is not None
    _sweep_after(dt.timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == "failed"
    assert "outcome unknown" in row.error
    assert mail.outbox == []


def test_a_refused_message_is_kept_failed_for_operators(
    world: World, client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    refusal = smtplib.SMTPRecipientsRefused({world.therapist.email: (550, b"no such user")})
    refused = mock.patch("django.core.mail.EmailMessage.send", side_effect=refusal)
    with refused, django_capture_on_commit_callbacks(execute=True):
        _put(client_for(world.partner), world.couple, afraid_or_hurt=True)
    row = SafetyAlertDelivery.objects.get()
    assert row.status == "failed"
    assert row.error.startswith("refused (550)")
    ready = APIClient().get("/readyz").json()
    assert "safety_alerts_unsent" in [reason["code"] for reason in ready["reasons"]]


def test_an_alert_raised_while_the_broker_was_away_is_sent_by_the_sweep(
    world: World, client_for: ClientFor
) -> None:
    _put(client_for(world.partner), world.couple, afraid_or_hurt=True)  # on_commit never ran
    assert mail.outbox == []
    _sweep_after(dt.timedelta(minutes=3))
    assert [m.to for m in mail.outbox] == [[world.therapist.email]]


def test_unacknowledged_after_24_hours_it_is_sent_again_once_with_the_escalation_copy(
    world: World, answered: SafetyAlert, settings: Any
) -> None:
    settings.SAFETY_ESCALATION_EMAIL = "safety-lead@clinic.example"
    mail.outbox.clear()
    _sweep_after(dt.timedelta(hours=23, minutes=50))
    assert mail.outbox == []
    _sweep_after(dt.timedelta(hours=24, minutes=5), times=2)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.therapist.email, "safety-lead@clinic.example"]
    )
    assert all("24 hours" in m.subject for m in mail.outbox)
    _sweep_after(dt.timedelta(hours=72))
    assert len(mail.outbox) == 2


def test_an_acknowledged_alert_is_not_sent_again(
    world: World, client_for: ClientFor, answered: SafetyAlert
) -> None:
    mail.outbox.clear()
    acked = client_for(world.therapist).post(f"{ALERTS}{answered.pk}/acknowledge/")
    assert acked.status_code == 200
    _sweep_after(dt.timedelta(hours=25))
    assert mail.outbox == []


def test_without_an_escalation_address_only_the_therapists_get_the_second_round(
    world: World, answered: SafetyAlert
) -> None:
    mail.outbox.clear()
    _sweep_after(dt.timedelta(hours=25))
    assert [m.to for m in mail.outbox] == [[world.therapist.email]]


# --- the API: list and acknowledge ---------------------------------------------------------------


def test_the_therapist_lists_the_alert_without_anything_of_the_checkin(
    world: World, client_for: ClientFor, answered: SafetyAlert
) -> None:
    listed = client_for(world.therapist).get(ALERTS)
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    # The whole row: who and which day, every value known; nothing of the check-in.
    assert row == {
        "id": str(answered.pk),
        "couple": str(world.couple.pk),
        "partner": str(world.partner.pk),
        "date": _day().isoformat(),
        "created_at": api_timestamp(answered.created_at),
        "retracted_at": None,
        "acknowledged_by": None,
        "acknowledged_at": None,
    }


@pytest.mark.parametrize("actor", ["partner", "other_partner", "outsider", "other_therapist"])
def test_no_one_but_the_couples_therapists_lists_or_acknowledges_an_alert(
    world: World, client_for: ClientFor, answered: SafetyAlert, actor: str
) -> None:
    client = client_for(world.actor(actor))
    assert client.get(ALERTS).json()["results"] == []
    assert client.post(f"{ALERTS}{answered.pk}/acknowledge/").status_code == 404
    answered.refresh_from_db()
    assert answered.acknowledged_at is None


def test_a_former_therapist_no_longer_reads_the_alerts(
    world: World, client_for: ClientFor, answered: SafetyAlert
) -> None:
    Membership.objects.filter(user=world.therapist).update(left_at=timezone.now())
    client = client_for(world.therapist)
    assert client.get(ALERTS).json()["results"] == []
    assert client.post(f"{ALERTS}{answered.pk}/acknowledge/").status_code == 404


def test_acknowledging_twice_keeps_the_first(
    world: World, client_for: ClientFor, answered: SafetyAlert
) -> None:
    second = TherapistFactory.create()
    Membership.objects.create(couple=world.couple, user=second, role="therapist")
    first = client_for(world.therapist).post(f"{ALERTS}{answered.pk}/acknowledge/").json()
    again = client_for(second).post(f"{ALERTS}{answered.pk}/acknowledge/")
    assert again.status_code == 200
    assert again.json() == first
    assert first["acknowledged_by"] == str(world.therapist.pk)


def test_the_filters_couple_and_acknowledged(
    world: World, client_for: ClientFor, answered: SafetyAlert
) -> None:
    other_couple, a, _, _ = make_couple(therapist=world.therapist)
    _put(client_for(a), other_couple, afraid_or_hurt=True)
    client = client_for(world.therapist)
    client.post(f"{ALERTS}{answered.pk}/acknowledge/")

    def ids(**params: str) -> list[str]:
        return [row["id"] for row in client.get(ALERTS, params).json()["results"]]

    other = str(SafetyAlert.objects.get(couple=other_couple).pk)
    assert ids(couple=str(world.couple.pk)) == [str(answered.pk)]
    assert ids(acknowledged="true") == [str(answered.pk)]
    assert ids(acknowledged="false") == [other]
    assert sorted(ids()) == sorted([str(answered.pk), other])


def test_the_list_costs_the_same_queries_whatever_its_length(
    world: World, client_for: ClientFor, django_assert_max_num_queries: Any
) -> None:
    for days in range(30):
        SafetyAlert.objects.create(
            couple=world.couple, partner=world.partner, date=_day() - dt.timedelta(days=days)
        )
    client = client_for(world.therapist)
    with django_assert_max_num_queries(8):
        page = client.get(ALERTS, {"page_size": 100})
    assert len(page.json()["results"]) == 30


def test_the_safe_contact_never_reaches_a_digest_or_the_alert_email(
    world: World, client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    SafeContact.objects.create(
        couple=world.couple, partner=world.partner, phone="+34 600 111 222", times="mornings"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _put(client_for(world.partner), world.couple, afraid_or_hurt=True)
    for message in mail.outbox:
        assert "600 111 222" not in message.body + _html(message)


def test_a_message_refused_for_now_is_tried_again_by_the_sweep_without_a_second_push(
    world: World,
    client_for: ClientFor,
    django_capture_on_commit_callbacks: Any,
    push_folder: Path,
) -> None:
    Device.objects.create(
        user=world.therapist, platform="android", token="t-fcm", token_digest="1" * 64
    )
    busy = smtplib.SMTPRecipientsRefused({world.therapist.email: (451, b"try again later")})
    refused = mock.patch("django.core.mail.EmailMessage.send", side_effect=busy)
    with refused, django_capture_on_commit_callbacks(execute=True):
        _put(client_for(world.partner), world.couple, afraid_or_hurt=True)
    row = SafetyAlertDelivery.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.error.startswith("refused (451)")
    _sweep_after(dt.timedelta(minutes=5))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert [m.to for m in mail.outbox] == [[world.therapist.email]]
    assert len(written_pushes(push_folder)) == 1
