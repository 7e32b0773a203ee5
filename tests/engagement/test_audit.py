"""Therapist reads of check-ins leave an audit trail; partners reading their own do not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from engagement.models import AuditEvent
from engagement.models import CheckIn
from tests.conftest import ClientFor
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _checkin(world: World, author: User, visibility: str) -> CheckIn:
    return CheckIn.objects.create(
        couple=world.couple,
        author=author,
        date=timezone.now().date(),
        mood=3,
        visibility=visibility,
    )


def test_a_therapist_listing_checkins_is_recorded_with_what_they_read(
    world: World, client_for: ClientFor
) -> None:
    shared = _checkin(world, world.partner, "therapist")
    _checkin(world, world.other_partner, "private")

    response = client_for(world.therapist).get("/api/v1/checkins/")

    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert event.actor == world.therapist
    assert event.channel == "api"
    assert event.action == "checkin.list"
    assert event.couple_id == world.couple.id
    # Only what was shown: the private check-in was never read, so it is not in the trail.
    assert event.object_ids == [str(shared.id)]


def test_a_partner_reading_their_own_couples_checkins_is_not_audited(
    world: World, client_for: ClientFor
) -> None:
    _checkin(world, world.other_partner, "couple")
    response = client_for(world.partner).get("/api/v1/checkins/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
    assert not AuditEvent.objects.exists()


def test_an_empty_page_leaves_no_audit_event(world: World, client_for: ClientFor) -> None:
    response = client_for(world.therapist).get("/api/v1/checkins/")
    assert response.status_code == 200
    assert not AuditEvent.objects.exists()


def test_a_therapist_reading_reports_is_recorded_and_a_partner_is_not(
    world: World, client_for: ClientFor
) -> None:
    from engagement.models import WeeklyReport

    # The couple's creation week: a partner reads reports from it (SPEC 5).
    created = world.couple.created_at.date()
    report = WeeklyReport.objects.create(
        couple=world.couple,
        week_start=created - dt.timedelta(days=created.weekday()),
        balance="insufficient_data",
    )
    assert client_for(world.partner).get(f"/api/v1/reports/{report.id}/").status_code == 200
    assert client_for(world.partner).get("/api/v1/reports/").status_code == 200
    assert not AuditEvent.objects.exists()

    assert client_for(world.therapist).get("/api/v1/reports/").status_code == 200
    assert client_for(world.therapist).get(f"/api/v1/reports/{report.id}/").status_code == 200
    events = list(AuditEvent.objects.order_by("at").values_list("action", "object_ids"))
    assert events == [
        ("report.list", [str(report.id)]),
        ("report.retrieve", [str(report.id)]),
    ]
