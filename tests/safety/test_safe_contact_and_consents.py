"""`/couples/{id}/safe-contact/` (a partner's own; therapists read it with `?partner=`, the other
partner never) and `/me/consents/` (the caller's own history)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from engagement.models import Consent
from engagement.models import Membership
from engagement.models import SafeContact
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONTACT = {
    "phone": "+34 600 111 222",
    "email": "safe@example.com",
    "times": "Mornings",
    "voicemail_ok": False,
}
EMPTY = {"phone": None, "email": None, "times": None, "voicemail_ok": None}


def _url(world: World) -> str:
    return f"/api/v1/couples/{world.couple.pk}/safe-contact/"


def test_a_partner_sets_and_reads_their_own_safe_contact(
    world: World, client_for: ClientFor
) -> None:
    client = client_for(world.partner)
    assert client.get(_url(world)).json() == EMPTY
    created = client.put(_url(world), CONTACT, format="json")
    assert created.status_code == 201
    assert created.json() == CONTACT
    replaced = client.put(_url(world), {"times": "Evenings"}, format="json")
    assert replaced.status_code == 200
    assert replaced.json() == {**EMPTY, "times": "Evenings"}
    assert client.get(_url(world)).json() == {**EMPTY, "times": "Evenings"}


def test_an_empty_email_clears_it_as_null_does(world: World, client_for: ClientFor) -> None:
    client = client_for(world.partner)
    client.put(_url(world), CONTACT, format="json")
    cleared = client.put(_url(world), {**CONTACT, "email": ""}, format="json")
    assert cleared.status_code == 200
    assert cleared.json() == {**CONTACT, "email": None}
    assert SafeContact.objects.get(partner=world.partner).email == ""


def test_the_other_partner_never_reads_it(world: World, client_for: ClientFor) -> None:
    client_for(world.partner).put(_url(world), CONTACT, format="json")
    other = client_for(world.other_partner)
    assert other.get(_url(world)).json() == EMPTY  # their own, empty
    assert other.get(_url(world), {"partner": str(world.partner.pk)}).status_code == 404


def test_the_couples_therapist_reads_a_partners_with_the_partner_named(
    world: World, client_for: ClientFor
) -> None:
    client_for(world.partner).put(_url(world), CONTACT, format="json")
    therapist = client_for(world.therapist)
    assert therapist.get(_url(world), {"partner": str(world.partner.pk)}).json() == CONTACT
    assert therapist.get(_url(world), {"partner": str(world.other_partner.pk)}).json() == EMPTY
    missing = therapist.get(_url(world))
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["attr"] == "partner"
    stranger = therapist.get(_url(world), {"partner": str(world.outsider.pk)})
    assert stranger.status_code == 404
    assert therapist.put(_url(world), CONTACT, format="json").status_code == 403


@pytest.mark.parametrize("actor", ["outsider", "other_therapist"])
def test_outsiders_get_404(world: World, client_for: ClientFor, actor: str) -> None:
    client_for(world.partner).put(_url(world), CONTACT, format="json")
    client = client_for(world.actor(actor))
    assert client.get(_url(world), {"partner": str(world.partner.pk)}).status_code == 404
    assert client.put(_url(world), CONTACT, format="json").status_code == 404
    assert SafeContact.objects.count() == 1


def test_a_former_partner_gets_404_and_a_later_partner_starts_empty(
    world: World, client_for: ClientFor
) -> None:
    client_for(world.other_partner).put(_url(world), CONTACT, format="json")
    Membership.objects.filter(user=world.other_partner).update(
        left_at=timezone.now(), partner_slot=None
    )
    newcomer = UserFactory.create()
    Membership.objects.create(couple=world.couple, user=newcomer, role="partner", partner_slot=2)
    assert client_for(world.other_partner).get(_url(world)).status_code == 404
    assert client_for(newcomer).get(_url(world)).json() == EMPTY
    # The therapist reads only the current partners' contacts.
    therapist = client_for(world.therapist)
    assert therapist.get(_url(world), {"partner": str(world.other_partner.pk)}).status_code == 404


def _refused_naming(answer: Any, field: str, model: type[models.Model]) -> None:
    """A 400 naming the field alone, and nothing written to the model's table."""
    assert answer.status_code == 400
    assert [e["attr"] for e in answer.json()["errors"]] == [field]
    assert not model._default_manager.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "call me"),
        ("phone", 600111222),
        ("email", "not-an-address"),
        ("times", "x" * 201),
        ("voicemail_ok", "yes"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    world: World, client_for: ClientFor, field: str, value: Any
) -> None:
    answer = client_for(world.partner).put(_url(world), {**CONTACT, field: value}, format="json")
    _refused_naming(answer, field, SafeContact)


# --- consents ----------------------------------------------------------------------------


def test_consents_are_recorded_as_history_and_read_only_by_their_user(
    world: World, client_for: ClientFor
) -> None:
    client = client_for(world.partner)
    first = client.post("/api/v1/me/consents/", {"document": "data-rules", "version": "1"})
    assert first.status_code == 201
    assert set(first.json()) == {"document", "version", "accepted_at"}
    client.post("/api/v1/me/consents/", {"document": "data-rules", "version": "2"})
    history = client.get("/api/v1/me/consents/").json()["results"]
    assert [(c["document"], c["version"]) for c in history] == [
        ("data-rules", "2"),
        ("data-rules", "1"),
    ]
    for other in (world.other_partner, world.therapist, world.outsider):
        assert client_for(other).get("/api/v1/me/consents/").json()["results"] == []
    assert client_for(None).get("/api/v1/me/consents/").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": "1"}, "document"),
        ({"document": "data rules!", "version": "1"}, "document"),
        ({"document": "data-rules"}, "version"),
        ({"document": "data-rules", "version": "9" * 33}, "version"),
    ],
)
def test_a_bad_consent_is_a_400_naming_the_field(
    world: World, client_for: ClientFor, body: dict[str, str], field: str
) -> None:
    answer = client_for(world.partner).post("/api/v1/me/consents/", body, format="json")
    _refused_naming(answer, field, Consent)


def test_the_therapists_couple_carries_each_partners_safe_contact_and_partners_never_do(
    world: World, client_for: ClientFor
) -> None:
    couple_url = f"/api/v1/couples/{world.couple.pk}/"
    partner_before = client_for(world.other_partner).get(couple_url)
    therapist_before = client_for(world.therapist).get(couple_url).json()
    client_for(world.partner).put(_url(world), CONTACT, format="json")

    therapist = client_for(world.therapist).get(couple_url).json()
    contacts = {entry["id"]: entry["safe_contact"] for entry in therapist["partners"]}
    assert contacts == {str(world.partner.pk): CONTACT, str(world.other_partner.pk): EMPTY}
    assert therapist["updated_at"] > therapist_before["updated_at"]
    listed = client_for(world.therapist).get("/api/v1/couples/").json()["results"]
    assert listed[0]["partners"][0]["safe_contact"] is not None
    for partner in (world.partner, world.other_partner):
        body = client_for(partner).get(couple_url).json()
        assert all("safe_contact" not in entry for entry in body["partners"])
        assert "555" not in str(body)
        assert "600 111 222" not in str(body)
    partner_after = client_for(world.other_partner).get(couple_url)
    assert partner_after.content == partner_before.content
    assert partner_after["ETag"] == partner_before["ETag"]
