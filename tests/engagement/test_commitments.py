"""Commitments through the API: create, edit, keep, miss, release, renew; who sees and changes."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Removal
from tests.conftest import ClientFor
from tests.conftest import World
from tests.engagement.conftest import assert_idempotent_create
from tests.engagement.conftest import assert_refused
from tests.errors import errors
from tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db

COMMITMENTS = "/api/v1/commitments/"


def _detail(commitment: Commitment | str, action: str = "") -> str:
    path = f"{COMMITMENTS}{getattr(commitment, 'pk', commitment)}/"
    return f"{path}{action}/" if action else path


def _commitment(world: World, owner: User | None = None, **fields: Any) -> Commitment:
    commitment: Commitment = CommitmentFactory.create(
        couple=world.couple,
        owner=owner or world.partner,
        created_by=world.therapist,
        **fields,
    )
    return commitment


def _create_body(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "couple": str(world.couple.pk),
        "owner": str(world.partner.pk),
        "title": "Ten minutes of undistracted talk",
        "due_on": "2026-11-29",
        "visibility": "couple",
        **fields,
    }


def _create(client: APIClient, world: World, **fields: Any) -> Any:
    """POST a commitment of the world's couple for ``partner``, but for ``fields``."""
    return client.post(COMMITMENTS, _create_body(world, **fields), format="json")


def _edit(client: APIClient, commitment: Commitment | str, **body: Any) -> Any:
    return client.patch(_detail(commitment), body, format="json")


def _renew(client: APIClient, commitment: Commitment | str, **body: Any) -> Any:
    return client.post(_detail(commitment, "renew"), body, format="json")


# --- lifecycle ---------------------------------------------------------------------------------


def test_homework_is_set_kept_and_made_again(world: World, client_for: ClientFor) -> None:
    therapist, partner = client_for(world.therapist), client_for(world.partner)
    created = _create(therapist, world, details="Phones in another room.")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["owner"] == str(world.partner.pk)
    assert body["created_by"] == str(world.therapist.pk)
    assert (body["status"], body["resolved_at"], body["renewed_from"]) == ("open", None, None)

    kept = partner.post(_detail(body["id"], "keep"))
    assert kept.status_code == 200
    assert kept.json()["status"] == "kept"
    assert kept.json()["resolved_at"].endswith("Z")

    renewed = _renew(partner, body["id"], due_on="2026-12-06")
    assert renewed.status_code == 201, renewed.json()
    again = renewed.json()
    assert again["id"] != body["id"]
    assert again["renewed_from"] == body["id"]
    assert again["status"] == "open"
    assert again["due_on"] == "2026-12-06"
    assert (again["title"], again["details"], again["owner"], again["visibility"]) == (
        body["title"],
        body["details"],
        body["owner"],
        body["visibility"],
    )
    assert again["created_by"] == str(world.partner.pk)
    assert Commitment.objects.count() == 2


def test_a_partner_makes_a_commitment_for_themselves_without_naming_an_owner(
    world: World, client_for: ClientFor
) -> None:
    body = _create_body(world, visibility="therapist", due_on="2020-01-01")
    del body["owner"]
    response = client_for(world.other_partner).post(COMMITMENTS, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["owner"] == str(world.other_partner.pk)
    # Past due dates are allowed: homework recorded after the fact.
    assert response.json()["due_on"] == "2020-01-01"


def test_a_partner_never_makes_a_commitment_for_the_other_partner(
    world: World, client_for: ClientFor
) -> None:
    response = _create(client_for(world.other_partner), world)
    assert response.status_code == 403
    assert Commitment.objects.count() == 0


def test_visibility_is_required_when_creating(world: World, client_for: ClientFor) -> None:
    body = _create_body(world)
    del body["visibility"]
    response = client_for(world.therapist).post(COMMITMENTS, body, format="json")
    assert_refused(response, [("visibility", "required")], Commitment)


@pytest.mark.parametrize("owner", ["therapist", "outsider", "other_therapist"])
def test_an_owner_who_is_not_a_partner_of_the_couple_is_refused_as_unknown(
    world: World, client_for: ClientFor, owner: str
) -> None:
    user = world.actor(owner)
    assert user is not None
    response = _create(client_for(world.therapist), world, owner=str(user.pk))
    assert_refused(response, [("owner", "does_not_exist")], Commitment)


def test_a_couple_the_caller_cannot_see_is_refused_as_unknown(
    world: World, client_for: ClientFor
) -> None:
    response = _create(client_for(world.outsider), world, owner=str(world.outsider.pk))
    assert response.status_code == 400
    assert ("couple", "does_not_exist") in errors(response)
    assert Commitment.objects.count() == 0


# --- resolving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["keep", "miss", "release"])
def test_repeating_a_resolution_changes_nothing(
    world: World, client_for: ClientFor, action: str
) -> None:
    commitment = _commitment(world)
    client = client_for(world.partner)
    first = client.post(_detail(commitment, action))
    again = client.post(_detail(commitment, action))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()


@pytest.mark.parametrize(
    ("first", "then"),
    [("keep", "miss"), ("miss", "keep"), ("release", "keep"), ("keep", "release")],
)
def test_a_resolved_commitment_refuses_another_resolution(
    world: World, client_for: ClientFor, first: str, then: str
) -> None:
    commitment = _commitment(world)
    client = client_for(world.therapist)
    assert client.post(_detail(commitment, first)).status_code == 200
    response = client.post(_detail(commitment, then))
    assert response.status_code == 409
    assert errors(response) == [(None, "invalid_transition")]
    commitment.refresh_from_db()
    assert commitment.status == {"keep": "kept", "miss": "missed", "release": "released"}[first]


def test_the_other_partner_gets_403_on_a_commitment_they_see_and_404_on_one_they_do_not(
    world: World, client_for: ClientFor
) -> None:
    shared = _commitment(world, visibility="couple")
    hidden = _commitment(world, visibility="therapist")
    client = client_for(world.other_partner)
    for action in ("keep", "miss", "release"):
        assert client.post(_detail(shared, action)).status_code == 403
        assert client.post(_detail(hidden, action)).status_code == 404
    assert _renew(client, shared, due_on="2026-12-01").status_code == 403
    assert _renew(client, hidden, due_on="2026-12-01").status_code == 404
    assert _edit(client, shared, title="Mine now").status_code == 403
    assert client.get(_detail(hidden)).status_code == 404
    assert Commitment.objects.filter(status="open").count() == 2
    assert Commitment.objects.count() == 2


def test_any_commitment_open_or_resolved_may_be_renewed(
    world: World, client_for: ClientFor
) -> None:
    missed = _commitment(world, status="missed", resolved_at=timezone.now())
    still_open = _commitment(world)
    client = client_for(world.therapist)
    for original in (missed, still_open):
        response = client.post(
            _detail(original, "renew"),
            {"due_on": "2026-12-01", "title": "Once more"},
            format="json",
        )
        assert response.status_code == 201
        assert response.json()["renewed_from"] == str(original.pk)
        assert response.json()["title"] == "Once more"
    missed.refresh_from_db()
    assert missed.status == "missed"


def test_renewing_needs_a_due_date(world: World, client_for: ClientFor) -> None:
    commitment = _commitment(world)
    response = _renew(client_for(world.partner), commitment)
    assert_refused(response, [("due_on", "required")], Commitment, 1)


# --- editing -----------------------------------------------------------------------------------


def test_the_owner_edits_text_and_due_date_while_state_fields_stay_read_only(
    world: World, client_for: ClientFor
) -> None:
    commitment = _commitment(world)
    response = client_for(world.partner).patch(
        _detail(commitment),
        {
            "title": "Twenty minutes",
            "due_on": "2026-12-02",
            "status": "kept",
            "resolved_at": "2026-11-23T10:00:00Z",
            "owner": str(world.other_partner.pk),
            "couple": str(world.other_couple.pk),
            "renewed_from": str(commitment.pk),
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    commitment.refresh_from_db()
    assert (commitment.title, commitment.due_on) == ("Twenty minutes", date(2026, 12, 2))
    assert commitment.status == "open"
    assert commitment.resolved_at is None
    assert commitment.owner_id == world.partner.pk
    assert commitment.couple_id == world.couple.pk
    assert commitment.renewed_from_id is None


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"title": ""}, "title", "blank"),
        ({"title": "x" * 201}, "title", "max_length"),
        ({"details": "x" * 2001}, "details", "max_length"),
        ({"details": "a\x00b"}, "details", "null_characters_not_allowed"),
        ({"due_on": "1999-12-31"}, "due_on", "out_of_range"),
        ({"due_on": "soon"}, "due_on", "invalid"),
        ({"visibility": "private"}, "visibility", "invalid_choice"),
    ],
)
def test_a_bad_edit_answers_400_naming_the_field_and_changes_nothing(
    world: World, client_for: ClientFor, body: dict[str, str], attr: str, code: str
) -> None:
    commitment = _commitment(world)
    before = Commitment.objects.values().get(pk=commitment.pk)
    response = _edit(client_for(world.therapist), commitment, **body)
    assert response.status_code == 400
    assert errors(response) == [(attr, code)]
    assert Commitment.objects.values().get(pk=commitment.pk) == before


def test_narrowing_a_commitment_to_the_therapist_removes_it_from_the_other_partner(
    world: World, client_for: ClientFor
) -> None:
    commitment = _commitment(world, visibility="couple")
    response = _edit(client_for(world.partner), commitment, visibility="therapist")
    assert response.status_code == 200
    assert list(Removal.objects.values_list("user_id", "type", "object_id")) == [
        (world.other_partner.pk, "commitment", commitment.pk)
    ]
    assert client_for(world.other_partner).get(_detail(commitment)).status_code == 404


def test_only_the_owner_may_show_a_commitment_to_the_couple(
    world: World, client_for: ClientFor
) -> None:
    commitment = _commitment(world, visibility="therapist")
    widened_by_therapist = _edit(client_for(world.therapist), commitment, visibility="couple")
    assert widened_by_therapist.status_code == 403
    commitment.refresh_from_db()
    assert commitment.visibility == "therapist"
    widened_by_owner = _edit(client_for(world.partner), commitment, visibility="couple")
    assert widened_by_owner.status_code == 200
    assert client_for(world.other_partner).get(_detail(commitment)).status_code == 200
    assert not Removal.objects.exists()


# --- who sees what -----------------------------------------------------------------------------


def test_a_partner_never_sees_the_other_partners_therapist_only_commitments(
    world: World, client_for: ClientFor
) -> None:
    _commitment(world, owner=world.other_partner, visibility="therapist", title="HIDDEN-7f3a9c")
    shared = _commitment(world, owner=world.other_partner, visibility="couple")
    mine = _commitment(world, owner=world.partner, visibility="therapist")
    listed = client_for(world.partner).get(COMMITMENTS)
    assert "HIDDEN-7f3a9c" not in listed.content.decode()
    assert {c["id"] for c in listed.json()["results"]} == {str(shared.pk), str(mine.pk)}
    assert len(client_for(world.therapist).get(COMMITMENTS).json()["results"]) == 3


def test_commitment_filters_are_inclusive(world: World, client_for: ClientFor) -> None:
    on_start = _commitment(world, due_on=date(2026, 11, 16))
    on_end = _commitment(world, due_on=date(2026, 11, 22), owner=world.other_partner)
    _commitment(world, due_on=date(2026, 11, 15))
    _commitment(world, due_on=date(2026, 11, 23), status="kept")
    client = client_for(world.therapist)
    week = client.get(COMMITMENTS, {"due_after": "2026-11-16", "due_before": "2026-11-22"})
    assert [c["id"] for c in week.json()["results"]] == [str(on_start.pk), str(on_end.pk)]
    owned = client.get(COMMITMENTS, {"owner": str(world.other_partner.pk)}).json()["results"]
    assert [c["id"] for c in owned] == [str(on_end.pk)]
    assert len(client.get(COMMITMENTS, {"status": "kept"}).json()["results"]) == 1
    assert client.get(COMMITMENTS, {"couple": str(world.other_couple.pk)}).json()["results"] == []
    bad = client.get(COMMITMENTS, {"due_after": "2026-11-31"})
    assert bad.status_code == 400
    assert errors(bad) == [("due_after", "invalid")]


def test_commitments_list_by_due_date_and_sync_by_updated_at(
    world: World, client_for: ClientFor
) -> None:
    later = _commitment(world, due_on=date(2026, 12, 1))
    sooner = _commitment(world, due_on=date(2026, 11, 1))
    client = client_for(world.partner)
    assert [c["id"] for c in client.get(COMMITMENTS).json()["results"]] == [
        str(sooner.pk),
        str(later.pk),
    ]
    since = (timezone.now() - timedelta(seconds=1)).isoformat()
    client.post(_detail(later, "keep"))
    synced = client.get(COMMITMENTS, {"updated_since": since}).json()["results"]
    assert [c["id"] for c in synced] == [str(sooner.pk), str(later.pk)]


# --- mobile conveniences -----------------------------------------------------------------------


def test_an_idempotency_key_replays_a_commitment_create(
    world: World, client_for: ClientFor
) -> None:
    body = _create_body(world)
    assert_idempotent_create(
        client_for(world.therapist),
        COMMITMENTS,
        body,
        {**body, "title": "Another"},
        key="c-1",
        model=Commitment,
        rows=1,
    )


def test_an_idempotency_key_replays_a_renewal(world: World, client_for: ClientFor) -> None:
    commitment = _commitment(world)
    assert_idempotent_create(
        client_for(world.partner),
        _detail(commitment, "renew"),
        {"due_on": "2026-12-06"},
        {"due_on": "2026-12-13"},
        key="r-1",
        model=Commitment,
        rows=2,
    )


def test_reading_a_commitment_again_with_its_etag_answers_304(
    world: World, client_for: ClientFor
) -> None:
    commitment = _commitment(world)
    client = client_for(world.partner)
    etag = client.get(_detail(commitment))["ETag"]
    assert client.get(_detail(commitment), HTTP_IF_NONE_MATCH=etag).status_code == 304
    client.post(_detail(commitment, "keep"))
    assert client.get(_detail(commitment), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_an_ended_couples_commitments_are_read_only(world: World, client_for: ClientFor) -> None:
    commitment = _commitment(world)
    Couple.objects.filter(pk=world.couple.pk).update(status="ended")
    client = client_for(world.partner)
    assert client.get(_detail(commitment)).status_code == 200
    assert client.post(_detail(commitment, "keep")).status_code == 409
    assert _renew(client, commitment, due_on="2026-12-01").status_code == 409
    assert _edit(client, commitment, title="x").status_code == 409
    commitment.refresh_from_db()
    assert commitment.status == "open"
    assert Commitment.objects.count() == 1
