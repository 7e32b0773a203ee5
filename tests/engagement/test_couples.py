"""Couples through the API: create, read, settings, balance consent, leave and remove a member."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import IdempotencyRecord
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import Removal
from tests.conftest import ClientFor
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapistFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation

pytestmark = pytest.mark.django_db

COUPLES = "/api/v1/couples/"
ACCEPT = "/api/v1/invitations/accept/"


def detail(couple: Couple, action: str = "") -> str:
    return f"{COUPLES}{couple.pk}/{action + '/' if action else ''}"


def remove_member(client: APIClient, couple: Couple, user: User | str) -> Any:
    """The client asks to remove ``user`` (or an id as given) from the couple."""
    return client.post(detail(couple, "remove-member"), {"user": str(getattr(user, "pk", user))})


def assert_still_a_member(couple: Couple, user: User | None) -> None:
    assert Membership.objects.get(couple=couple, user=user).left_at is None


def assert_removed(couple: Couple, user: User) -> None:
    """``user`` left the couple, freeing their partner slot, and was told (a removal)."""
    membership = Membership.objects.get(couple=couple, user=user)
    assert (membership.left_at is not None, membership.partner_slot) == (True, None)
    assert Removal.objects.filter(user=user, type="couple", object_id=couple.pk).exists()


def first_error(response: Any) -> dict[str, Any]:
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors[0]


# --- create -----------------------------------------------------------------------------------


def test_partner_creates_a_couple_and_joins_it_in_slot_one(client_for: ClientFor) -> None:
    user = UserFactory.create(display_name="Ana")

    response = client_for(user).post(COUPLES, {"name": "A & B"})

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "A & B"
    assert body["status"] == "active"
    assert [p["display_name"] for p in body["partners"]] == ["Ana"]
    assert body["partners"][0]["shares_balance"] is False
    assert body["therapists"] == []
    assert body["former_members"] == []
    assert body["created_at"].endswith("Z")
    membership = Membership.objects.get(couple_id=body["id"])
    assert (membership.user, membership.role, membership.partner_slot) == (user, "partner", 1)


def test_a_couple_created_by_a_partner_shows_partners_the_balance(client_for: ClientFor) -> None:
    response = client_for(UserFactory.create()).post(COUPLES, {})

    assert response.status_code == 201
    assert response.json()["partners_see_balance"] is True


def test_a_couple_created_by_a_therapist_hides_the_balance_from_partners(
    client_for: ClientFor,
) -> None:
    therapist = TherapistFactory.create()

    response = client_for(therapist).post(COUPLES, {"name": "C.D."})

    assert response.status_code == 201
    body = response.json()
    assert body["partners_see_balance"] is False
    assert body["safety_hold"] is False
    assert [t["id"] for t in body["therapists"]] == [str(therapist.pk)]
    assert body["partners"] == []
    assert Membership.objects.get(couple_id=body["id"]).role == "therapist"


def test_the_couple_timezone_defaults_to_the_creators(client_for: ClientFor) -> None:
    user = UserFactory.create(timezone="Europe/Berlin")

    response = client_for(user).post(COUPLES, {})

    assert response.json()["timezone"] == "Europe/Berlin"
    assert Couple.objects.get(pk=response.json()["id"]).timezone == "Europe/Berlin"


def test_creating_a_couple_records_its_first_status(client_for: ClientFor) -> None:
    response = client_for(UserFactory.create()).post(COUPLES, {})

    changes = CoupleStatusChange.objects.filter(couple_id=response.json()["id"])
    assert list(changes.values_list("status", flat=True)) == ["active"]


def test_a_therapist_may_create_a_couple_on_safety_hold(client_for: ClientFor) -> None:
    response = client_for(TherapistFactory.create()).post(COUPLES, {"safety_hold": True})

    assert response.status_code == 201
    assert response.json()["safety_hold"] is True
    assert Couple.objects.get(pk=response.json()["id"]).safety_hold is True


def test_a_partner_creating_a_couple_cannot_set_a_safety_hold(client_for: ClientFor) -> None:
    response = client_for(UserFactory.create()).post(COUPLES, {"safety_hold": True})

    assert response.status_code == 201
    assert "safety_hold" not in response.json()
    assert Couple.objects.get(pk=response.json()["id"]).safety_hold is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("checkin_target_per_week", 8),
        ("checkin_target_per_week", -1),
        ("name", "x" * 81),
        ("name", "A\x00B"),
        ("partners_see_balance", "perhaps"),
    ],
)
def test_creating_a_couple_refuses_bad_input_and_writes_nothing(
    client_for: ClientFor, field: str, value: Any
) -> None:
    response = client_for(UserFactory.create()).post(COUPLES, {field: value})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert first_error(response)["attr"] == field
    assert not Couple.objects.exists()
    assert not Membership.objects.exists()


def test_creating_a_couple_again_with_the_same_idempotency_key_replays_the_first_answer(
    client_for: ClientFor,
) -> None:
    client = client_for(UserFactory.create())

    first = client.post(COUPLES, {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(COUPLES, {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Couple.objects.count() == 1
    assert Membership.objects.count() == 1


def test_an_idempotency_key_reused_with_another_body_answers_422(client_for: ClientFor) -> None:
    client = client_for(UserFactory.create())
    client.post(COUPLES, {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-1")

    response = client.post(COUPLES, {"name": "B"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 422
    assert first_error(response)["code"] == "idempotency_key_reused"
    assert list(Couple.objects.values_list("name", flat=True)) == ["A"]


def test_a_failed_create_frees_its_idempotency_key(client_for: ClientFor) -> None:
    client = client_for(UserFactory.create())

    response = client.post(COUPLES, {"timezone": "Nowhere"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 400
    assert not IdempotencyRecord.objects.exists()


# --- list and read ----------------------------------------------------------------------------


def test_the_list_holds_only_the_callers_couples_newest_first(client_for: ClientFor) -> None:
    therapist = TherapistFactory.create()
    older, *_ = make_couple(therapist=therapist)
    newer, *_ = make_couple(therapist=therapist)
    make_couple()  # someone else's

    response = client_for(therapist).get(COUPLES)

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [str(newer.pk), str(older.pk)]


def test_the_list_filters_by_the_callers_role(client_for: ClientFor) -> None:
    user = TherapistFactory.create()
    make_couple(therapist=user)
    as_partner: Couple = Couple.objects.create()
    Membership.objects.create(couple=as_partner, user=user, role="partner", partner_slot=1)

    response = client_for(user).get(COUPLES, {"role": "partner"})

    assert [c["id"] for c in response.json()["results"]] == [str(as_partner.pk)]


def test_the_list_filters_by_status(client_for: ClientFor) -> None:
    therapist = TherapistFactory.create()
    make_couple(therapist=therapist)
    paused, *_ = make_couple(therapist=therapist, status="paused")

    response = client_for(therapist).get(COUPLES, {"status": "paused"})

    assert [c["id"] for c in response.json()["results"]] == [str(paused.pk)]


def test_updated_since_lists_changed_couples_oldest_change_first(client_for: ClientFor) -> None:
    therapist = TherapistFactory.create()
    first, *_ = make_couple(therapist=therapist)
    second, *_ = make_couple(therapist=therapist)
    first.name = "renamed"
    first.save()  # now the most recently updated

    response = client_for(therapist).get(COUPLES, {"updated_since": "2000-01-01T00:00:00Z"})

    assert [c["id"] for c in response.json()["results"]] == [str(second.pk), str(first.pk)]


def test_updated_since_without_an_offset_is_refused(client_for: ClientFor) -> None:
    response = client_for(UserFactory.create()).get(
        COUPLES, {"updated_since": "2026-01-01T00:00:00"}
    )

    assert response.status_code == 400
    assert first_error(response)["attr"] == "updated_since"


@pytest.mark.parametrize("page_size", [1, 100])
def test_listing_couples_takes_the_same_few_queries_whatever_the_page_size(
    client_for: ClientFor, django_assert_max_num_queries: Any, page_size: int
) -> None:
    therapist = TherapistFactory.create()
    for _ in range(12):
        couple, partner, _other, _t = make_couple(therapist=therapist)
        Membership.objects.filter(couple=couple, user=partner).update(
            left_at="2026-01-01T00:00:00Z", partner_slot=None
        )
    client = client_for(therapist)

    # The user (authentication), the page of couples, their memberships with users, their
    # partners' safe contacts (the therapist's view carries them).
    with django_assert_max_num_queries(4):
        response = client.get(COUPLES, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(page_size, 12)
    assert all(len(c["former_members"]) == 1 for c in response.json()["results"])


def test_the_therapist_reads_the_safety_hold(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple(safety_hold=True)

    response = client_for(therapist).get(detail(couple))

    assert response.status_code == 200
    assert response.json()["safety_hold"] is True


def test_partners_never_see_the_safety_hold_not_even_its_key(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple(safety_hold=True)

    response = client_for(partner).get(detail(couple))

    assert response.status_code == 200
    assert "safety_hold" not in response.json()
    assert "hold" not in response.content.decode()


def test_a_couple_names_its_partners_therapists_and_former_members(client_for: ClientFor) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    Membership.objects.filter(couple=couple, user=other).update(shares_balance=True)
    leaver = TherapistFactory.create(display_name="Dr. Gone")
    Membership.objects.create(
        couple=couple, user=leaver, role="therapist", left_at="2026-01-01T00:00:00Z"
    )

    body = client_for(partner).get(detail(couple)).json()

    assert [(p["id"], p["shares_balance"]) for p in body["partners"]] == [
        (str(partner.pk), False),
        (str(other.pk), True),
    ]
    assert [t["display_name"] for t in body["therapists"]] == [therapist.display_name]
    assert body["former_members"] == [
        {"id": str(leaver.pk), "display_name": "Dr. Gone", "left_at": "2026-01-01T00:00:00.000Z"}
    ]


def test_a_couple_read_again_with_its_etag_answers_304(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple()
    client = client_for(partner)
    etag = client.get(detail(couple))["ETag"]

    response = client.get(detail(couple), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_partner_and_therapist_views_of_one_couple_have_different_etags(
    client_for: ClientFor,
) -> None:
    couple, partner, _other, therapist = make_couple()

    partner_tag = client_for(partner).get(detail(couple))["ETag"]
    therapist_tag = client_for(therapist).get(detail(couple))["ETag"]

    assert partner_tag != therapist_tag


# --- settings ---------------------------------------------------------------------------------


def test_the_therapist_changes_the_couples_settings(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()

    response = client_for(therapist).patch(
        detail(couple),
        {"name": "E.F.", "timezone": "Asia/Tokyo", "checkin_target_per_week": 0},
    )

    assert response.status_code == 200
    assert response.json()["name"] == "E.F."
    couple.refresh_from_db()
    assert (couple.name, couple.timezone, couple.checkin_target_per_week) == (
        "E.F.",
        "Asia/Tokyo",
        0,
    )


def test_the_therapist_puts_the_couple_on_safety_hold(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()

    response = client_for(therapist).patch(detail(couple), {"safety_hold": True})

    assert response.status_code == 200
    assert response.json()["safety_hold"] is True
    couple.refresh_from_db()
    assert couple.safety_hold is True


def test_a_partner_changes_settings_of_a_couple_without_therapist(client_for: ClientFor) -> None:
    couple, partner, _other, _none = make_couple(therapist=False)

    response = client_for(partner).patch(
        detail(couple), {"checkin_target_per_week": 6, "partners_see_balance": False}
    )

    assert response.status_code == 200
    couple.refresh_from_db()
    assert (couple.checkin_target_per_week, couple.partners_see_balance) == (6, False)


def test_a_partner_cannot_change_settings_of_a_couple_with_a_therapist(
    client_for: ClientFor,
) -> None:
    couple, partner, _other, _therapist = make_couple(name="Before")

    response = client_for(partner).patch(detail(couple), {"name": "After"})

    assert response.status_code == 403
    couple.refresh_from_db()
    assert couple.name == "Before"


def test_a_partner_cannot_change_settings_while_on_hold_and_is_not_told_why(
    client_for: ClientFor,
) -> None:
    # The therapist who set the hold has left: the hold stays until a therapist lifts it.
    couple, partner, _other, _none = make_couple(therapist=False, safety_hold=True, name="Same")

    response = client_for(partner).patch(detail(couple), {"name": "Changed"})

    assert response.status_code == 403
    assert "hold" not in response.content.decode().lower()
    couple.refresh_from_db()
    assert couple.name == "Same"


def test_a_partner_sending_safety_hold_has_it_ignored(client_for: ClientFor) -> None:
    couple, partner, _other, _none = make_couple(therapist=False)

    response = client_for(partner).patch(detail(couple), {"safety_hold": True, "name": "N"})

    assert response.status_code == 200
    assert "safety_hold" not in response.json()
    couple.refresh_from_db()
    assert (couple.safety_hold, couple.name) == (False, "N")


def test_pausing_a_couple_records_the_status_change(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()

    response = client_for(therapist).patch(detail(couple), {"status": "paused"})

    assert response.status_code == 200
    assert response.json()["status"] == "paused"
    history = CoupleStatusChange.objects.filter(couple=couple).order_by("changed_at", "id")
    assert list(history.values_list("status", flat=True)) == ["active", "paused"]


def test_a_patch_that_keeps_the_status_records_no_status_change(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()

    client_for(therapist).patch(detail(couple), {"status": "active", "name": "X"})

    assert CoupleStatusChange.objects.filter(couple=couple).count() == 1


def test_ending_a_couple_revokes_its_pending_invitations(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()
    assert therapist is not None
    invitation, _token = make_invitation(couple=couple, invited_by=therapist, role="therapist")

    response = client_for(therapist).patch(detail(couple), {"status": "ended"})

    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


def test_an_ended_couple_refuses_further_changes(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple(status="ended", name="Final")

    response = client_for(therapist).patch(detail(couple), {"status": "active", "name": "X"})

    assert response.status_code == 409
    assert first_error(response)["code"] == "invalid_transition"
    couple.refresh_from_db()
    assert (couple.status, couple.name) == ("ended", "Final")


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "divorced"), ("timezone", "Nowhere/Else"), ("checkin_target_per_week", 9)],
)
def test_changing_settings_refuses_bad_input_and_writes_nothing(
    client_for: ClientFor, field: str, value: Any
) -> None:
    couple, _partner, _other, therapist = make_couple()
    before = Couple.objects.values().get(pk=couple.pk)

    response = client_for(therapist).patch(detail(couple), {field: value})

    assert response.status_code == 400
    assert first_error(response)["attr"] == field
    assert Couple.objects.values().get(pk=couple.pk) == before


def test_a_couple_cannot_be_replaced_with_put(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()

    response = client_for(therapist).put(detail(couple), {"name": "X"})

    assert response.status_code == 405


# --- balance consent --------------------------------------------------------------------------


def test_a_partner_consents_to_see_the_balance(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple()

    response = client_for(partner).post(detail(couple, "share-balance"), {"share": True})

    assert response.status_code == 200
    entry = next(p for p in response.json()["partners"] if p["id"] == str(partner.pk))
    assert entry["shares_balance"] is True
    assert Membership.objects.get(couple=couple, user=partner).shares_balance is True


def test_a_partner_withdraws_consent_to_see_the_balance(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple()
    Membership.objects.filter(couple=couple, user=partner).update(shares_balance=True)

    response = client_for(partner).post(detail(couple, "share-balance"), {"share": False})

    assert response.status_code == 200
    assert Membership.objects.get(couple=couple, user=partner).shares_balance is False


def test_consent_is_the_callers_own_and_not_the_other_partners(client_for: ClientFor) -> None:
    couple, partner, other, _therapist = make_couple()

    client_for(partner).post(detail(couple, "share-balance"), {"share": True})

    assert Membership.objects.get(couple=couple, user=other).shares_balance is False


def test_a_therapist_has_no_balance_consent_to_give(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()

    response = client_for(therapist).post(detail(couple, "share-balance"), {"share": True})

    assert response.status_code == 403
    assert not Membership.objects.filter(couple=couple, shares_balance=True).exists()


def test_sharing_the_balance_needs_a_yes_or_no(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple()

    response = client_for(partner).post(detail(couple, "share-balance"), {})

    assert response.status_code == 400
    assert first_error(response)["attr"] == "share"


def test_an_ended_couple_takes_no_new_consent(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple(status="ended")

    response = client_for(partner).post(detail(couple, "share-balance"), {"share": True})

    assert response.status_code == 409
    assert first_error(response)["code"] == "invalid_transition"
    assert Membership.objects.get(couple=couple, user=partner).shares_balance is False


# --- leave and remove -------------------------------------------------------------------------


def test_a_partner_who_leaves_frees_their_slot_and_becomes_a_former_member(
    client_for: ClientFor,
) -> None:
    couple, partner, other, _therapist = make_couple()

    response = client_for(partner).post(detail(couple, "leave"))

    assert response.status_code == 204
    membership = Membership.objects.get(couple=couple, user=partner)
    assert membership.left_at is not None
    assert membership.partner_slot is None
    body = client_for(other).get(detail(couple)).json()
    assert [p["id"] for p in body["partners"]] == [str(other.pk)]
    assert [f["id"] for f in body["former_members"]] == [str(partner.pk)]


def test_a_departure_reaches_the_other_members_next_sync(client_for: ClientFor) -> None:
    couple, partner, other, _therapist = make_couple()
    client = client_for(other)
    before = client.get(detail(couple)).json()["updated_at"]
    client_for(partner).post(detail(couple, "leave"))

    response = client.get(COUPLES, {"updated_since": before})

    assert [c["id"] for c in response.json()["results"]] == [str(couple.pk)]
    assert response.json()["results"][0]["updated_at"] > before


def test_whoever_left_a_couple_can_no_longer_see_it(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple()
    client = client_for(partner)
    client.post(detail(couple, "leave"))

    assert client.get(detail(couple)).status_code == 404
    assert client.get(COUPLES).json()["results"] == []


def test_leaving_records_the_removal_of_the_couple_and_of_everything_seen_in_it(
    client_for: ClientFor,
) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    session = TherapySessionFactory.create(couple=couple)
    private_to_other = TherapySessionFactory.create(
        couple=couple, kind="individual", focus_partner=other
    )
    commitment = CommitmentFactory.create(couple=couple, owner=partner)
    own_checkin = CheckInFactory.create(couple=couple, author=partner, visibility="private")
    sent, _token = make_invitation(couple=couple, invited_by=partner, status="revoked")
    therapists, _token = make_invitation(couple=couple, invited_by=therapist, role="therapist")

    client_for(partner).post(detail(couple, "leave"))

    removed = set(Removal.objects.filter(user=partner).values_list("type", "object_id"))
    assert removed == {
        ("couple", couple.pk),
        ("session", session.pk),
        ("commitment", commitment.pk),
        ("checkin", own_checkin.pk),
        ("invitation", sent.pk),
    }
    assert ("session", private_to_other.pk) not in removed  # never seen, so never removed
    assert ("invitation", therapists.pk) not in removed
    assert not Removal.objects.exclude(user=partner).exists()


def test_a_freed_slot_takes_a_new_partner(client_for: ClientFor) -> None:
    couple, partner, _other, therapist = make_couple()
    assert therapist is not None
    client_for(partner).post(detail(couple, "leave"))
    _invitation, token = make_invitation(couple=couple, invited_by=therapist)
    newcomer = UserFactory.create()

    response = client_for(newcomer).post("/api/v1/invitations/accept/", {"token": token})

    assert response.status_code == 200
    assert Membership.objects.get(couple=couple, user=newcomer, left_at=None).partner_slot == 1


def test_the_last_member_to_leave_ends_the_couple(client_for: ClientFor) -> None:
    couple, partner, other, _none = make_couple(therapist=False)
    client_for(partner).post(detail(couple, "leave"))

    response = client_for(other).post(detail(couple, "leave"))

    assert response.status_code == 204
    couple.refresh_from_db()
    assert couple.status == "ended"
    assert CoupleStatusChange.objects.filter(couple=couple, status="ended").exists()


def test_members_may_still_leave_an_ended_couple(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple(status="ended")

    response = client_for(partner).post(detail(couple, "leave"))

    assert response.status_code == 204
    assert Membership.objects.get(couple=couple, user=partner).left_at is not None


def test_the_therapist_removes_a_partner(client_for: ClientFor) -> None:
    couple, partner, _other, therapist = make_couple()

    response = remove_member(client_for(therapist), couple, partner)

    assert response.status_code == 204
    assert_removed(couple, partner)
    assert client_for(partner).get(detail(couple)).status_code == 404


def test_removing_someone_outside_the_couple_answers_does_not_exist(
    client_for: ClientFor,
) -> None:
    couple, _partner, _other, therapist = make_couple()
    _c, stranger, _o, _t = make_couple()

    response = remove_member(client_for(therapist), couple, stranger)

    assert response.status_code == 400
    error = first_error(response)
    assert (error["attr"], error["code"]) == ("user", "does_not_exist")
    assert Membership.objects.filter(user=stranger, left_at__isnull=True).count() == 1


def test_removing_a_former_member_again_answers_does_not_exist(client_for: ClientFor) -> None:
    couple, partner, _other, therapist = make_couple()
    client = client_for(therapist)
    remove_member(client, couple, partner)

    response = remove_member(client, couple, partner)

    assert response.status_code == 400
    assert first_error(response)["code"] == "does_not_exist"


def test_remove_member_refuses_a_malformed_id(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple()

    response = remove_member(client_for(therapist), couple, "nope")

    assert response.status_code == 400
    assert first_error(response)["attr"] == "user"


def test_a_partner_cannot_remove_the_other_partner(client_for: ClientFor) -> None:
    couple, partner, other, _therapist = make_couple()

    response = remove_member(client_for(partner), couple, other)

    assert response.status_code == 403
    assert_still_a_member(couple, other)


def joined_through_invitation(
    client_for: ClientFor, *, at: str = "2026-12-01T10:00:00Z"
) -> tuple[Couple, User, User]:
    """A couple with no therapist that `inviter` created; `invitee` joined at `at` by
    accepting the partner invitation `inviter` sent."""
    with time_machine.travel(at, tick=False):
        inviter = UserFactory.create()
        couple = Couple.objects.get(pk=client_for(inviter).post(COUPLES, {}).json()["id"])
        _invitation, token = make_invitation(couple=couple, invited_by=inviter)
        invitee = UserFactory.create()
        assert client_for(invitee).post(ACCEPT, {"token": token}).status_code == 200
    return couple, inviter, invitee


def test_the_inviter_removes_who_joined_within_seven_days(client_for: ClientFor) -> None:
    couple, inviter, invitee = joined_through_invitation(client_for)

    with time_machine.travel("2026-12-08T09:59:00Z", tick=False):
        response = remove_member(client_for(inviter), couple, invitee)

    assert response.status_code == 204
    assert_removed(couple, invitee)


@pytest.mark.parametrize(
    ("remover", "at", "therapist_joined"),
    [
        pytest.param(
            "inviter",
            "2026-12-08T10:00:01Z",
            False,
            id="the inviter cannot remove who joined after seven days",
        ),
        pytest.param(
            "invitee", "2026-12-02T10:00:00Z", False, id="who joined cannot remove their inviter"
        ),
        pytest.param(
            "inviter",
            "2026-12-02T10:00:00Z",
            True,
            id="the inviter cannot remove who joined once a therapist has",
        ),
    ],
)
def test_a_removal_the_invitation_does_not_allow_is_refused(
    client_for: ClientFor, remover: str, at: str, therapist_joined: bool
) -> None:
    couple, inviter, invitee = joined_through_invitation(client_for)
    if therapist_joined:
        Membership.objects.create(couple=couple, user=TherapistFactory.create(), role="therapist")
    by, removed = (inviter, invitee) if remover == "inviter" else (invitee, inviter)

    with time_machine.travel(at, tick=False):
        response = remove_member(client_for(by), couple, removed)

    assert response.status_code == 403
    assert_still_a_member(couple, removed)


def test_a_partner_cannot_remove_someone_another_member_invited(client_for: ClientFor) -> None:
    couple, partner, other, _none = make_couple(therapist=False)

    response = remove_member(client_for(partner), couple, other)

    assert response.status_code == 403
    assert_still_a_member(couple, other)


def test_a_partner_removing_a_non_member_answers_does_not_exist(client_for: ClientFor) -> None:
    couple, partner, _other, _none = make_couple(therapist=False)

    response = remove_member(client_for(partner), couple, UserFactory.create())

    assert response.status_code == 400
    assert first_error(response)["code"] == "does_not_exist"


def test_a_removed_member_who_rejoins_is_not_removed_on_the_old_invitation(
    client_for: ClientFor,
) -> None:
    couple, inviter, invitee = joined_through_invitation(client_for)
    with time_machine.travel("2026-12-02T10:00:00Z", tick=False):
        remove_member(client_for(inviter), couple, invitee)
        therapist = TherapistFactory.create()
        Membership.objects.create(couple=couple, user=therapist, role="therapist")
        _invitation, token = make_invitation(couple=couple, invited_by=therapist)
        client_for(invitee).post(ACCEPT, {"token": token})
        Membership.objects.filter(couple=couple, user=therapist).update(
            left_at="2026-12-02T10:00:00Z"
        )

        response = remove_member(client_for(inviter), couple, invitee)

    assert response.status_code == 403
    assert Membership.objects.get(couple=couple, user=invitee, left_at=None)


def test_removing_a_member_revokes_the_invitations_they_sent(client_for: ClientFor) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    spare, _token = make_invitation(couple=couple, invited_by=partner)
    kept, _token = make_invitation(couple=couple, invited_by=other)

    remove_member(client_for(therapist), couple, partner)

    assert Invitation.objects.get(pk=spare.pk).status == "revoked"
    assert Invitation.objects.get(pk=kept.pk).status == "pending"


def test_leaving_revokes_the_invitations_the_leaver_sent(client_for: ClientFor) -> None:
    couple, partner, other, _none = make_couple(therapist=False)
    spare, _token = make_invitation(couple=couple, invited_by=partner, role="therapist")
    kept, _token = make_invitation(couple=couple, invited_by=other, role="therapist")

    client_for(partner).post(detail(couple, "leave"))

    assert Invitation.objects.get(pk=spare.pk).status == "revoked"
    assert Invitation.objects.get(pk=kept.pk).status == "pending"


def test_the_last_therapist_cannot_leave_a_couple_on_safety_hold(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple(safety_hold=True)

    response = client_for(therapist).post(detail(couple, "leave"))

    assert response.status_code == 409
    assert first_error(response)["code"] == "last_therapist_on_hold"
    assert_still_a_member(couple, therapist)


def test_the_last_therapist_cannot_be_removed_from_a_couple_on_safety_hold(
    client_for: ClientFor,
) -> None:
    couple, _partner, _other, therapist = make_couple(safety_hold=True)
    assert therapist is not None

    response = remove_member(client_for(therapist), couple, therapist)

    assert response.status_code == 409
    assert first_error(response)["code"] == "last_therapist_on_hold"
    assert_still_a_member(couple, therapist)


def test_the_last_therapist_may_still_leave_an_ended_couple_on_hold(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple(safety_hold=True, status="ended")

    response = client_for(therapist).post(detail(couple, "leave"))

    assert response.status_code == 204


def test_a_therapist_may_leave_a_held_couple_that_keeps_another_therapist(
    client_for: ClientFor,
) -> None:
    couple, _partner, _other, therapist = make_couple(safety_hold=True)
    assert therapist is not None
    colleague = TherapistFactory.create()
    Membership.objects.create(couple=couple, user=colleague, role="therapist")

    removed = remove_member(client_for(colleague), couple, therapist)
    refused = client_for(colleague).post(detail(couple, "leave"))

    assert removed.status_code == 204
    assert refused.status_code == 409


def test_no_one_is_removed_from_an_ended_couple(client_for: ClientFor) -> None:
    couple, partner, _other, therapist = make_couple(status="ended")

    response = remove_member(client_for(therapist), couple, partner)

    assert response.status_code == 409
    assert_still_a_member(couple, partner)


# --- the database itself ----------------------------------------------------------------------


def test_the_database_refuses_a_third_active_partner() -> None:
    couple, _partner, _other, _therapist = make_couple()

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            couple=couple, user=UserFactory.create(), role="partner", partner_slot=1
        )


def test_the_database_refuses_an_active_partner_without_a_slot() -> None:
    couple: Couple = Couple.objects.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(couple=couple, user=UserFactory.create(), role="partner")


def test_invitations_of_a_couple_survive_another_members_departure(
    client_for: ClientFor,
) -> None:
    couple, partner, _other, therapist = make_couple()
    assert therapist is not None
    invitation, _token = make_invitation(couple=couple, invited_by=therapist, role="therapist")

    client_for(partner).post(detail(couple, "leave"))

    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_a_whole_row_save_moves_the_partners_clock_only_for_what_partners_read(
    db: None,
) -> None:
    """The admin saves whole rows: switching the hold there moves only the therapists' clock."""
    couple, *_ = make_couple()
    start = couple.partner_updated_at
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        couple.safety_hold = True
        couple.save()
    couple.refresh_from_db()
    assert couple.partner_updated_at == start
    assert couple.updated_at > start
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        couple.name = "R. & S."
        couple.save()
    couple.refresh_from_db()
    assert couple.partner_updated_at == couple.updated_at > start
