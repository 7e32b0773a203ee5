"""The other partner as attacker, on invitations and membership (SPEC v1.1 section 1, "Roles",
"Invitations and membership ends"; issue 13, findings 5, 6 and 9).

Each test is an attack made through the API only, as a controlling partner would make it, and
asserts that it fails and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Couple
from engagement.models import Invitation
from engagement.models import Membership
from tests.conftest import ClientFor
from tests.factories import PASSWORD
from tests.factories import TherapistFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COUPLES = "/api/v1/couples/"
INVITATIONS = "/api/v1/invitations/"
ACCEPT = "/api/v1/invitations/accept/"


def error_code(response: Any) -> str:
    return str(response.json()["errors"][0]["code"])


def invite(client: APIClient, couple: Couple, email: str, role: str = "partner") -> Any:
    return client.post(INVITATIONS, {"couple": str(couple.pk), "email": email, "role": role})


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def couple_of(client_for: ClientFor) -> tuple[Couple, User, User]:
    """A couple with no therapist: A created it and invited B, who joined."""
    a, b = UserFactory.create(), UserFactory.create()
    couple = Couple.objects.get(pk=client_for(a).post(COUPLES, {}).json()["id"])
    token = invite(client_for(a), couple, "b@example.com").json()["token"]
    assert client_for(b).post(ACCEPT, {"token": token}).status_code == 200
    return couple, a, b


def bring_in_a_therapist(client_for: ClientFor, couple: Couple, a: User, b: User) -> User:
    """A invites a therapist, B approves, the therapist joins."""
    created = invite(client_for(a), couple, "dr@example.com", "therapist").json()
    assert client_for(b).post(f"{INVITATIONS}{created['id']}/approve/").status_code == 200
    therapist = TherapistFactory.create()
    assert client_for(therapist).post(ACCEPT, {"token": created["token"]}).status_code == 200
    return therapist


# --- finding 5: a removed partner rejoins with a spare invitation -----------------------------


def couple_with_a_spare(client_for: ClientFor) -> tuple[Couple, User, User, dict[str, Any]]:
    """A created the couple and sent two partner invitations: B joined with one, A kept the
    other (the spare)."""
    a, b = UserFactory.create(), UserFactory.create()
    couple = Couple.objects.get(pk=client_for(a).post(COUPLES, {}).json()["id"])
    token = invite(client_for(a), couple, "b@example.com").json()["token"]
    spare = invite(client_for(a), couple, "a-other-address@example.com").json()
    assert client_for(b).post(ACCEPT, {"token": token}).status_code == 200
    return couple, a, b, spare


def test_a_removed_partner_cannot_rejoin_with_a_spare_invitation_they_sent(
    client_for: ClientFor,
) -> None:
    couple, a, b, spare = couple_with_a_spare(client_for)
    therapist = bring_in_a_therapist(client_for, couple, a, b)
    removed = client_for(therapist).post(
        f"{COUPLES}{couple.pk}/remove-member/", {"user": str(a.pk)}
    )
    assert removed.status_code == 204  # A's place is free again

    attack = client_for(a).post(ACCEPT, {"token": spare["token"]})

    assert attack.status_code == 409
    assert error_code(attack) == "invalid_transition"
    assert not Membership.objects.filter(couple=couple, user=a, left_at=None).exists()
    assert Invitation.objects.get(pk=spare["id"]).status == "revoked"


def test_a_removed_partner_cannot_rejoin_even_if_the_spare_escaped_revocation(
    client_for: ClientFor,
) -> None:
    couple, a, b, spare = couple_with_a_spare(client_for)
    therapist = bring_in_a_therapist(client_for, couple, a, b)
    client_for(therapist).post(f"{COUPLES}{couple.pk}/remove-member/", {"user": str(a.pk)})
    Invitation.objects.filter(pk=spare["id"]).update(status="pending")  # the backstop's case

    attack = client_for(a).post(ACCEPT, {"token": spare["token"]})

    assert attack.status_code == 409
    assert not Membership.objects.filter(couple=couple, user=a, left_at=None).exists()


def test_a_partner_who_left_cannot_rejoin_with_a_spare_invitation(client_for: ClientFor) -> None:
    couple, a, _b, spare = couple_with_a_spare(client_for)
    client_for(a).post(f"{COUPLES}{couple.pk}/leave/")

    attack = client_for(a).post(ACCEPT, {"token": spare["token"]})

    assert attack.status_code == 409
    assert not Membership.objects.filter(couple=couple, user=a, left_at=None).exists()
    assert Invitation.objects.get(pk=spare["id"]).status == "revoked"


def test_an_erased_partners_spare_invitation_lets_no_one_in(client_for: ClientFor) -> None:
    couple, a, b = couple_of(client_for)
    client_for(b).post(f"{COUPLES}{couple.pk}/leave/")
    spare = invite(client_for(a), couple, "friend@example.com").json()
    Membership.objects.create(
        couple=couple, user=UserFactory.create(), role="partner", partner_slot=2
    )

    assert client_for(a).delete("/api/v1/me/", {"password": PASSWORD}).status_code == 204
    attack = client_for(UserFactory.create()).post(ACCEPT, {"token": spare["token"]})

    assert attack.status_code == 409
    assert Invitation.objects.get(pk=spare["id"]).status == "revoked"


def test_a_partners_spare_invitation_dies_when_a_therapist_joins(client_for: ClientFor) -> None:
    couple, a, b = couple_of(client_for)
    client_for(b).post(f"{COUPLES}{couple.pk}/leave/")
    spare = invite(client_for(a), couple, "ally@example.com").json()
    created = invite(client_for(a), couple, "dr@example.com", "therapist").json()
    assert (
        client_for(TherapistFactory.create()).post(ACCEPT, {"token": created["token"]}).status_code
        == 200
    )

    # Now the therapist runs the couple; A tries to bring in an ally behind their back.
    attack = client_for(UserFactory.create()).post(ACCEPT, {"token": spare["token"]})

    assert attack.status_code == 409
    assert Invitation.objects.get(pk=spare["id"]).status == "revoked"
    assert Membership.objects.filter(couple=couple, role="partner", left_at=None).count() == 1


# --- finding 9: nobody brings a therapist in alone; one role per couple ------------------------


def test_a_partner_cannot_bring_a_therapist_in_without_the_other_partner(
    client_for: ClientFor,
) -> None:
    couple, a, _b = couple_of(client_for)
    created = invite(client_for(a), couple, "my-friend-the-dr@example.com", "therapist").json()
    own_approval = client_for(a).post(f"{INVITATIONS}{created['id']}/approve/")
    therapist = TherapistFactory.create()

    attack = client_for(therapist).post(ACCEPT, {"token": created["token"]})

    assert own_approval.status_code == 403
    assert attack.status_code == 409
    assert error_code(attack) == "approval_pending"
    assert not Membership.objects.filter(couple=couple, user=therapist).exists()
    assert Invitation.objects.get(pk=created["id"]).approvals == []


def test_a_partner_cannot_become_the_couples_therapist(client_for: ClientFor) -> None:
    couple, a, b = couple_of(client_for)
    # A leaves, gets a therapist account, and tries to come back as the couple's therapist
    # (reading everything B shares with a therapist) through an invitation B approved.
    client_for(a).post(f"{COUPLES}{couple.pk}/leave/")
    User.objects.filter(pk=a.pk).update(is_therapist=True)
    created = invite(client_for(b), couple, "a-at-work@example.com", "therapist").json()

    attack = client_for(User.objects.get(pk=a.pk)).post(ACCEPT, {"token": created["token"]})

    assert attack.status_code == 409
    assert error_code(attack) == "role_conflict"
    assert not Membership.objects.filter(couple=couple, user=a, left_at=None).exists()


# --- finding 9: whom one partner invited is not the other's business --------------------------


def test_a_partner_cannot_read_the_invitations_the_other_partner_sent(
    client_for: ClientFor,
) -> None:
    couple, a, b = couple_of(client_for)
    client_for(b).post(f"{COUPLES}{couple.pk}/leave/")
    sent = invite(client_for(a), couple, "new-person@example.com").json()
    Membership.objects.filter(couple=couple, user=b).update(left_at=None, partner_slot=2)
    attacker = client_for(b)

    listed = attacker.get(INVITATIONS).json()["results"]
    read = attacker.get(f"{INVITATIONS}{sent['id']}/")
    revoke = attacker.post(f"{INVITATIONS}{sent['id']}/revoke/")
    synced = attacker.get(INVITATIONS, {"updated_since": "2000-01-01T00:00:00Z"}).json()

    assert str(sent["id"]) not in {i["id"] for i in listed}
    assert "new-person@example.com" not in str(listed)
    assert (read.status_code, revoke.status_code) == (404, 404)
    assert str(sent["id"]) not in {i["id"] for i in synced["results"]}
    assert Invitation.objects.get(pk=sent["id"]).status == "pending"


def test_a_partner_cannot_use_up_the_other_partners_invitations(client_for: ClientFor) -> None:
    couple, a, b = couple_of(client_for)
    for n in range(5):
        assert invite(client_for(b), couple, f"dr{n}@example.com", "therapist").status_code == 201
    sixth = invite(client_for(b), couple, "dr5@example.com", "therapist")

    response = invite(client_for(a), couple, "our-dr@example.com", "therapist")

    assert error_code(sixth) == "pending_limit"
    assert response.status_code == 201


def test_an_inviter_learns_nothing_about_an_address_from_the_answer(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    # Others have been inviting this address (its per-address quota is used up): the
    # inviter's answer is shaped exactly as usual; only the mail stays home.
    couple, a, b = couple_of(client_for)
    client_for(b).post(f"{COUPLES}{couple.pk}/leave/")
    for _ in range(5):
        other_couple, other_inviter, _x = couple_of(client_for)
        invite(client_for(other_inviter), other_couple, "dr@example.com", "therapist")
    with on_commit():
        usual = invite(client_for(a), couple, "fresh-dr@example.com", "therapist")
    assert len(mail.outbox) == 1
    mail.outbox.clear()

    with on_commit():
        response = invite(client_for(a), couple, "dr@example.com", "therapist")

    assert response.status_code == usual.status_code == 201
    shape = {key: type(value) for key, value in response.json().items()}
    assert shape == {key: type(value) for key, value in usual.json().items()}
    assert sorted(response.headers) == sorted(usual.headers)
    assert mail.outbox == []


# --- finding 6: the acceptance email promises what remove-member allows -----------------------


def test_the_undo_the_acceptance_email_promises_is_the_one_the_api_allows(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    with time_machine.travel("2026-12-01T10:00:00Z", tick=False):
        a, intruder = UserFactory.create(), UserFactory.create()
        couple = Couple.objects.get(pk=client_for(a).post(COUPLES, {}).json()["id"])
        token = invite(client_for(a), couple, "b@example.com").json()["token"]
        with on_commit():
            client_for(intruder).post(ACCEPT, {"token": token})
    [message] = mail.outbox
    assert "until 8 December 2026, 10:00 (UTC)" in str(message.body)

    with time_machine.travel("2026-12-08T09:59:59Z", tick=False):
        undo = client_for(a).post(
            f"{COUPLES}{couple.pk}/remove-member/", {"user": str(intruder.pk)}
        )

    assert undo.status_code == 204
    assert not Membership.objects.filter(couple=couple, user=intruder, left_at=None).exists()


def refused_removal(client_for: ClientFor, couple: Couple, remover: User, member: User) -> None:
    """The remover's removal of the member is refused (403), and the member stays."""
    attack = client_for(remover).post(
        f"{COUPLES}{couple.pk}/remove-member/", {"user": str(member.pk)}
    )
    assert attack.status_code == 403
    assert Membership.objects.filter(couple=couple, user=member, left_at=None).exists()


def test_the_one_who_joined_cannot_turn_the_undo_against_the_inviter(
    client_for: ClientFor,
) -> None:
    couple, a, b = couple_of(client_for)

    refused_removal(client_for, couple, b, a)


def test_a_partner_cannot_remove_the_other_partner_once_a_therapist_joined(
    client_for: ClientFor,
) -> None:
    couple, a, b = couple_of(client_for)
    bring_in_a_therapist(client_for, couple, a, b)

    refused_removal(client_for, couple, a, b)


def test_a_newcomer_reads_nothing_of_what_a_former_partnership_asked_for(
    client_for: ClientFor,
) -> None:
    couple, a, r = couple_of(client_for)
    asked = invite(client_for(a), couple, "our-dr@example.com", "therapist").json()
    client_for(r).post(f"{INVITATIONS}{asked['id']}/approve/")  # R's approval, R's act
    client_for(r).post(f"{COUPLES}{couple.pk}/leave/")
    token = invite(client_for(a), couple, "c@example.com").json()["token"]
    newcomer = UserFactory.create()
    client_for(newcomer).post(ACCEPT, {"token": token})
    attacker = client_for(newcomer)

    listed = attacker.get(INVITATIONS).json()["results"]
    read = attacker.get(f"{INVITATIONS}{asked['id']}/")

    assert listed == []
    assert read.status_code == 404
    assert str(r.pk) not in str(listed)
