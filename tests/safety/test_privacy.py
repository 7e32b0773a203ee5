"""The safety feature and the caller's own data: the export holds their own answers, safe
contacts and consents, never an alert; erasure takes the clinical record with the rest unless
CLINICAL_RETENTION_YEARS keeps it for the couple's therapists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Attendance
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models import TherapySession
from engagement.privacy.erasure import clinical_records_purge
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import PASSWORD
from tests.factories import AttendanceFactory
from tests.factories import TherapySessionFactory

pytestmark = pytest.mark.django_db


def _answer(client: APIClient, world: World, answer: bool | None) -> None:
    body: dict[str, Any] = {"couple": str(world.couple.pk), "visibility": "private", "mood": 2}
    body["afraid_or_hurt"] = answer
    day = timezone.now().date()
    assert client.put(f"/api/v1/checkins/{day}/", body, format="json").status_code in (200, 201)


def test_the_export_holds_the_callers_own_answers_contact_and_consents_never_an_alert(
    world: World, client_for: ClientFor
) -> None:
    client = client_for(world.partner)
    _answer(client, world, True)
    client.put(
        f"/api/v1/couples/{world.couple.pk}/safe-contact/", {"phone": "+1 555 0100"}, format="json"
    )
    client.post("/api/v1/me/consents/", {"document": "data-rules", "version": "3"})
    assert SafetyAlert.objects.count() == 1

    export = client.get("/api/v1/me/export/").json()

    assert [c["afraid_or_hurt"] for c in export["checkins"]] == [True]
    assert export["safe_contacts"][0]["phone"] == "+1 555 0100"
    assert [(c["document"], c["version"]) for c in export["consents"]] == [("data-rules", "3")]
    assert "alert" not in str(export).lower()


def test_the_other_partners_export_and_the_therapists_hold_none_of_it(
    world: World, client_for: ClientFor
) -> None:
    _answer(client_for(world.partner), world, True)
    client_for(world.partner).put(
        f"/api/v1/couples/{world.couple.pk}/safe-contact/", {"phone": "+1 555 0100"}, format="json"
    )
    for reader in (world.other_partner, world.therapist):
        export = client_for(reader).get("/api/v1/me/export/").json()
        assert export["checkins"] == []
        assert export["safe_contacts"] == []
        assert "555 0100" not in str(export)


def _erase(client: APIClient) -> None:
    assert client.delete("/api/v1/me/", {"password": PASSWORD}, format="json").status_code == 204


@pytest.fixture
def clinical_record(world: World, client_for: ClientFor) -> dict[str, Any]:
    _answer(client_for(world.partner), world, True)
    client_for(world.partner).put(
        f"/api/v1/couples/{world.couple.pk}/safe-contact/", {"phone": "+1 555 0100"}, format="json"
    )
    joint = TherapySessionFactory.create(couple=world.couple, therapist_notes="both")
    AttendanceFactory.create(session=joint, partner=world.partner)
    AttendanceFactory.create(session=joint, partner=world.other_partner)
    individual = TherapySessionFactory.create(
        couple=world.couple,
        kind="individual",
        focus_partner=world.partner,
        therapist_notes="alone",
    )
    return {"joint": joint, "individual": individual}


def test_by_default_erasure_takes_the_alerts_attendance_and_individual_sessions(
    world: World, client_for: ClientFor, clinical_record: dict[str, Any]
) -> None:
    _erase(client_for(world.partner))
    assert not SafetyAlert.objects.exists()
    assert not SafeContact.objects.exists()
    assert not TherapySession.objects.filter(pk=clinical_record["individual"].pk).exists()
    assert list(
        Attendance.objects.filter(session=clinical_record["joint"]).values_list(
            "partner_id", flat=True
        )
    ) == [world.other_partner.pk]
    assert client_for(world.therapist).get("/api/v1/safety-alerts/").json()["results"] == []
    removals = client_for(world.therapist).get(
        "/api/v1/removals/", {"since": "2000-01-01T00:00:00Z"}
    )
    assert str(clinical_record["individual"].pk) in str(removals.json())


def test_with_retention_the_therapists_keep_the_record_de_identified_until_it_expires(
    world: World, client_for: ClientFor, clinical_record: dict[str, Any], settings: Any
) -> None:
    settings.CLINICAL_RETENTION_YEARS = 2
    _erase(client_for(world.partner))
    assert not SafeContact.objects.exists()  # the partner's own, not a clinical record
    (alert,) = client_for(world.therapist).get("/api/v1/safety-alerts/").json()["results"]
    assert alert["partner"] == str(world.partner.pk)
    erased = User.objects.get(pk=world.partner.pk)
    assert erased.display_name == "Former partner"
    assert erased.email.endswith("@invalid")
    assert TherapySession.objects.filter(pk=clinical_record["individual"].pk).exists()
    assert Attendance.objects.filter(partner=world.partner).count() == 1

    with time_machine.travel(timezone.now() + dt.timedelta(days=365)):
        assert clinical_record_purged() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=2 * 365 + 2)):
        assert clinical_record_purged() == 1
    assert not SafetyAlert.objects.exists()
    assert not Attendance.objects.filter(partner=world.partner).exists()
    assert not TherapySession.objects.filter(pk=clinical_record["individual"].pk).exists()
    assert TherapySession.objects.filter(pk=clinical_record["joint"].pk).exists()


def clinical_record_purged() -> int:
    return clinical_records_purge(now=timezone.now())
