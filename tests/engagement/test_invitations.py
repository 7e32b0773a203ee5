"""Invitations through the API: issue (token once), email after commit, accept, revoke, throttle."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from accounts.models import User
from config.celery import app as celery_app
from engagement.invitations import tasks
from engagement.models import Couple
from engagement.models import IdempotencyRecord
from engagement.models import Invitation
from engagement.models import Membership
from tests.conftest import ClientFor
from tests.factories import TherapistFactory
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation

pytestmark = pytest.mark.django_db

INVITATIONS = "/api/v1/invitations/"
ACCEPT = "/api/v1/invitations/accept/"


def accept(client: APIClient, token: str) -> Any:
    return client.post(ACCEPT, {"token": token})


def revoke_url(invitation: Invitation) -> str:
    return f"{INVITATIONS}{invitation.pk}/revoke/"


def first_error(response: Any) -> dict[str, Any]:
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors[0]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run what the request queued for after commit (the emails), as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def asked_therapist(couple: Couple, partner: User, **fields: Any) -> tuple[Invitation, str]:
    """A therapist invitation ``partner`` sent, as the service stores one: waiting for the
    other partner's approval (SPEC section 1, "Roles")."""
    return make_invitation(
        couple=couple, invited_by=partner, role="therapist", approvals=[], **fields
    )


def therapist_asked_for() -> tuple[Invitation, str, User, User]:
    """A couple without a therapist in which ``partner`` invited one, waiting for ``other``'s
    approval: (invitation, token, partner, other)."""
    couple, partner, other, _none = make_couple(therapist=False)
    invitation, token = asked_therapist(couple, partner)
    return invitation, token, partner, other


def couple_with_one_partner() -> tuple[Couple, User, User]:
    """A couple with a therapist and one partner: one partner slot is free."""
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    Membership.objects.filter(couple=couple, user=other).update(
        left_at=timezone.now(), partner_slot=None
    )
    return couple, partner, therapist


# --- issue ------------------------------------------------------------------------------------


def test_the_therapist_invites_a_partner_and_sees_the_token_once(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()

    response = client_for(therapist).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "New@Example.com", "role": "partner"}
    )

    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert body["url"] == f"http://127.0.0.1:8000/invite?token={token}"
    assert (body["status"], body["role"], body["email"]) == (
        "pending",
        "partner",
        "new@example.com",
    )
    assert body["invited_by"] == str(therapist.pk)
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values().get(pk=body["id"]))
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)


def test_the_token_is_not_shown_again_when_reading_invitations(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    client = client_for(therapist)
    created = client.post(
        INVITATIONS, {"couple": str(couple.pk), "email": "a@example.com", "role": "partner"}
    ).json()

    listed = client.get(INVITATIONS).json()["results"][0]
    read = client.get(f"{INVITATIONS}{created['id']}/").json()

    for body in (listed, read):
        assert "token" not in body
        assert "url" not in body
        assert created["token"] not in str(body)


def test_the_invitation_email_carries_the_link_and_a_neutral_subject(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, _partner, therapist = couple_with_one_partner()

    with on_commit():
        response = client_for(therapist).post(
            INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "partner"}
        )

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["x@example.com"]
    assert response.json()["url"] in str(message.body)
    assert isinstance(message, EmailMultiAlternatives)
    html = message.alternatives[0][0]
    assert response.json()["url"].replace("&", "&amp;") in str(html)
    assert "therap" not in message.subject.lower()
    assert couple.name not in message.subject


def test_the_token_never_reaches_the_logs(
    client_for: ClientFor, on_commit: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    couple, _partner, therapist = couple_with_one_partner()

    with caplog.at_level(logging.DEBUG), on_commit():
        response = client_for(therapist).post(
            INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "partner"}
        )

    token = response.json()["token"]
    assert len(mail.outbox) == 1
    assert caplog.records, "the task should have logged something"
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in str(record.__dict__)


def test_no_email_leaves_when_the_invitation_is_refused(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, _partner, _other, therapist = make_couple()  # two partners already

    with on_commit():
        response = client_for(therapist).post(
            INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "partner"}
        )

    assert response.status_code == 409
    assert first_error(response)["code"] == "partner_limit"
    assert mail.outbox == []
    assert not Invitation.objects.exists()


def test_no_invitation_email_goes_out_once_it_was_revoked(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=therapist, status="revoked")

    tasks.send_invitation.delay(str(invitation.pk), token)

    assert mail.outbox == []


def test_partners_invite_while_their_couple_has_no_therapist(client_for: ClientFor) -> None:
    couple, partner, _other, _none = make_couple(therapist=False)

    response = client_for(partner).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "dr@example.com", "role": "therapist"}
    )

    assert response.status_code == 201
    assert Invitation.objects.get().invited_by == partner


def test_partners_do_not_invite_once_their_couple_has_a_therapist(client_for: ClientFor) -> None:
    couple, partner, _other, _therapist = make_couple()

    response = client_for(partner).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "dr@example.com", "role": "therapist"}
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_inviting_to_a_couple_the_caller_cannot_see_answers_does_not_exist(
    client_for: ClientFor,
) -> None:
    couple, *_ = make_couple()

    response = client_for(TherapistFactory.create()).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "therapist"}
    )

    assert response.status_code == 400
    error = first_error(response)
    assert (error["attr"], error["code"]) == ("couple", "does_not_exist")
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-address"),
        ("email", "a\x00b@example.com"),
        ("role", "admin"),
        ("couple", "not-a-uuid"),
    ],
)
def test_issuing_an_invitation_refuses_bad_input_and_writes_nothing(
    client_for: ClientFor, field: str, value: str
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    body = {"couple": str(couple.pk), "email": "x@example.com", "role": "therapist", field: value}

    response = client_for(therapist).post(INVITATIONS, body)

    assert response.status_code == 400
    assert first_error(response)["attr"] == field
    assert not Invitation.objects.exists()


def test_an_inviter_holds_at_most_five_pending_invitations_per_couple(
    client_for: ClientFor,
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    client = client_for(therapist)
    for n in range(5):
        body = {"couple": str(couple.pk), "email": f"p{n}@example.com", "role": "therapist"}
        assert client.post(INVITATIONS, body).status_code == 201

    response = client.post(
        INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "therapist"}
    )

    assert response.status_code == 409
    assert first_error(response)["code"] == "pending_limit"
    assert Invitation.objects.count() == 5


def test_the_pending_limit_counts_each_inviter_on_their_own(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    colleague = TherapistFactory.create()
    Membership.objects.create(couple=couple, user=colleague, role="therapist")
    for n in range(5):
        make_invitation(couple=couple, invited_by=therapist, email=f"p{n}@example.com")

    response = client_for(colleague).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "therapist"}
    )

    assert response.status_code == 201
    assert Invitation.objects.filter(invited_by=colleague).count() == 1


def test_the_pending_limit_counts_each_couple_on_its_own(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    other_couple, *_ = make_couple(therapist=therapist)
    for n in range(5):
        make_invitation(couple=couple, invited_by=therapist, email=f"p{n}@example.com")

    response = client_for(therapist).post(
        INVITATIONS,
        {"couple": str(other_couple.pk), "email": "x@example.com", "role": "therapist"},
    )

    assert response.status_code == 201


def test_expired_and_revoked_invitations_do_not_count_as_pending(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    for n in range(5):
        make_invitation(
            couple=couple,
            invited_by=therapist,
            email=f"old{n}@example.com",
            expires_at=timezone.now() - timedelta(seconds=1),
        )
        make_invitation(
            couple=couple, invited_by=therapist, email=f"r{n}@example.com", status="revoked"
        )

    response = client_for(therapist).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "therapist"}
    )

    assert response.status_code == 201


def test_an_ended_couple_sends_no_invitations(client_for: ClientFor) -> None:
    couple, _partner, _other, therapist = make_couple(status="ended")

    response = client_for(therapist).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "x@example.com", "role": "therapist"}
    )

    assert response.status_code == 409
    assert first_error(response)["code"] == "invalid_transition"
    assert not Invitation.objects.exists()


def test_past_the_per_address_limit_an_invitation_is_created_without_an_email(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    colleague = TherapistFactory.create()
    Membership.objects.create(couple=couple, user=colleague, role="therapist")
    body = {"couple": str(couple.pk), "email": "same@example.com", "role": "therapist"}
    for n in range(5):  # invite_email: 5/day; five per inviter and couple
        inviter = therapist if n < 3 else colleague
        with on_commit():
            assert client_for(inviter).post(INVITATIONS, body).status_code == 201
    assert len(mail.outbox) == 5

    with on_commit():
        response = client_for(colleague).post(INVITATIONS, {**body, "email": "SAME@example.com"})

    assert response.status_code == 201
    assert response.json()["token"]
    assert response.json()["url"].endswith(response.json()["token"])
    assert "Retry-After" not in response
    assert len(mail.outbox) == 5
    assert Invitation.objects.filter(status="pending").count() == 6


def test_invitations_to_other_addresses_still_go_out_by_email(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    rates = {"invite_user": "100/hour", "invite_email": "1/day", "user": "1000/min"}
    client = client_for(therapist)

    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        for email in ("a@example.com", "a@example.com", "b@example.com"):
            with on_commit():
                body = {"couple": str(couple.pk), "email": email, "role": "therapist"}
                assert client.post(INVITATIONS, body).status_code == 201

    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]


def test_invitations_refused_anyway_do_not_use_up_an_addresss_quota(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, partner, _other, _therapist = make_couple()
    body = {"couple": str(couple.pk), "email": "victim@example.com", "role": "therapist"}
    for _ in range(6):
        assert client_for(partner).post(INVITATIONS, body).status_code == 403

    _c, _p, therapist = couple_with_one_partner()
    with on_commit():
        response = client_for(therapist).post(INVITATIONS, {**body, "couple": str(_c.pk)})

    assert response.status_code == 201
    assert [m.to for m in mail.outbox] == [["victim@example.com"]]


def test_invitations_from_one_inviter_are_throttled(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    client = client_for(therapist)
    rates = {"invite_user": "2/hour", "invite_email": "100/day", "user": "1000/min"}

    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [
            client.post(
                INVITATIONS,
                {"couple": str(couple.pk), "email": f"p{n}@example.com", "role": "therapist"},
            ).status_code
            for n in range(3)
        ]

    assert statuses == [201, 201, 429]
    assert Invitation.objects.count() == 2


def _rest_framework() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


def test_an_invitation_replayed_with_its_idempotency_key_answers_no_token(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    client = client_for(therapist)
    body = {"couple": str(couple.pk), "email": "x@example.com", "role": "partner"}

    with on_commit():
        first = client.post(INVITATIONS, body, HTTP_IDEMPOTENCY_KEY="inv-1")
    with on_commit():
        again = client.post(INVITATIONS, body, HTTP_IDEMPOTENCY_KEY="inv-1")

    assert first.status_code == again.status_code == 201
    assert first.json()["token"]
    assert again.json() == {**first.json(), "token": None, "url": None}
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1
    assert first.json()["token"] not in str(IdempotencyRecord.objects.values().get())


def test_an_invitation_key_reused_with_another_body_answers_422(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    client = client_for(therapist)
    body = {"couple": str(couple.pk), "email": "x@example.com", "role": "partner"}
    client.post(INVITATIONS, body, HTTP_IDEMPOTENCY_KEY="inv-1")

    response = client.post(
        INVITATIONS, {**body, "email": "y@example.com"}, HTTP_IDEMPOTENCY_KEY="inv-1"
    )

    assert response.status_code == 422
    assert Invitation.objects.count() == 1


# --- list -------------------------------------------------------------------------------------


def test_therapists_list_every_invitation_of_their_couples_newest_first(
    client_for: ClientFor,
) -> None:
    couple, partner, therapist = couple_with_one_partner()
    older, _ = make_invitation(
        couple=couple, invited_by=partner, created_at=timezone.now() - timedelta(hours=1)
    )
    newer, _ = make_invitation(couple=couple, invited_by=therapist, role="therapist")
    other_couple, _p, _o, other_therapist = make_couple()
    assert other_therapist is not None
    make_invitation(couple=other_couple, invited_by=other_therapist, role="therapist")

    response = client_for(therapist).get(INVITATIONS)

    assert [i["id"] for i in response.json()["results"]] == [str(newer.pk), str(older.pk)]


def test_a_partner_lists_only_the_invitations_they_sent(client_for: ClientFor) -> None:
    couple, partner, therapist = couple_with_one_partner()
    sent, _ = make_invitation(couple=couple, invited_by=partner, status="revoked")
    make_invitation(couple=couple, invited_by=therapist)

    response = client_for(partner).get(INVITATIONS)

    assert [i["id"] for i in response.json()["results"]] == [str(sent.pk)]


def test_the_other_partner_lists_a_therapist_invitation_waiting_for_their_approval(
    client_for: ClientFor,
) -> None:
    asked, _, _partner, other = therapist_asked_for()

    response = client_for(other).get(INVITATIONS)

    assert [(i["id"], i["approvals"]) for i in response.json()["results"]] == [(str(asked.pk), [])]


def test_an_invitation_past_its_expiry_reads_expired(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    expired, _ = make_invitation(
        couple=couple, invited_by=therapist, expires_at=timezone.now() - timedelta(minutes=1)
    )
    make_invitation(couple=couple, invited_by=therapist, role="therapist")

    response = client_for(therapist).get(INVITATIONS, {"status": "expired"})

    assert [(i["id"], i["status"]) for i in response.json()["results"]] == [
        (str(expired.pk), "expired")
    ]


def test_filtering_invitations_by_a_couple_the_caller_cannot_see_lists_nothing(
    client_for: ClientFor,
) -> None:
    couple, _partner, _other, therapist = make_couple()
    assert therapist is not None
    make_invitation(couple=couple, invited_by=therapist, role="therapist")

    response = client_for(TherapistFactory.create()).get(INVITATIONS, {"couple": str(couple.pk)})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("reader", ["therapist", "partner"])
@pytest.mark.parametrize("page_size", [1, 100])
def test_listing_invitations_takes_the_same_few_queries_whatever_the_page_size(
    client_for: ClientFor, django_assert_max_num_queries: Any, page_size: int, reader: str
) -> None:
    # Partners' therapist invitations, sent before a therapist joined: the partner reads their
    # own five and the five waiting for their approval, the therapist all ten.
    couple, partner, other, _none = make_couple(therapist=False)
    for n in range(10):
        inviter = partner if n % 2 else other
        asked_therapist(couple, inviter, email=f"{n}@x.org")
    therapist = TherapistFactory.create()
    Membership.objects.create(couple=couple, user=therapist, role="therapist")
    client = client_for(therapist if reader == "therapist" else partner)

    with django_assert_max_num_queries(2):  # the user, the page
        response = client.get(INVITATIONS, {"page_size": page_size})

    assert len(response.json()["results"]) == min(page_size, 10)


# --- accept -----------------------------------------------------------------------------------


def test_accepting_joins_the_couple_in_the_free_partner_slot(client_for: ClientFor) -> None:
    couple, partner, therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=therapist)
    newcomer = UserFactory.create()

    response = accept(client_for(newcomer), token)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(couple.pk)
    assert [p["id"] for p in body["partners"]] == [str(partner.pk), str(newcomer.pk)]
    assert "safety_hold" not in body
    membership = Membership.objects.get(couple=couple, user=newcomer, left_at=None)
    assert (membership.role, membership.partner_slot) == ("partner", 2)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", newcomer)
    assert invitation.accepted_at is not None


def test_the_invited_address_need_not_match_the_accepting_account(
    client_for: ClientFor,
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(
        couple=couple, invited_by=therapist, email="work@example.com"
    )

    user = UserFactory.create(email="home@example.com")
    response = accept(client_for(user), token)

    assert response.status_code == 200
    assert Membership.objects.get(couple=couple, user=user, left_at=None).role == "partner"


def test_the_inviter_is_told_who_accepted(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(couple=couple, invited_by=therapist)
    newcomer = UserFactory.create(display_name="Jo <Smith>", email="jo@example.com")

    with on_commit():
        accept(client_for(newcomer), token)

    assert [m.to for m in mail.outbox] == [[therapist.email]]
    message = mail.outbox[0]
    assert "Jo <Smith>" in str(message.body)
    assert "jo@example.com" in str(message.body)
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "Jo &lt;Smith&gt;" in html
    assert "<Smith>" not in html


def test_both_partners_are_told_when_a_therapist_joins(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    _invitation, token = make_invitation(couple=couple, invited_by=therapist, role="therapist")
    newcomer = TherapistFactory.create(display_name="Dr. New")

    with on_commit():
        response = accept(client_for(newcomer), token)

    assert response.status_code == 200
    assert response.json()["safety_hold"] is False  # the therapist's view
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([therapist.email, partner.email, other.email])
    for message in mail.outbox:
        if message.to[0] != therapist.email:
            assert "Dr. New" in str(message.body)
            assert "therap" not in message.subject.lower()


def test_a_partner_who_invited_the_therapist_gets_one_email_not_two(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, partner, other, _none = make_couple(therapist=False)
    _invitation, token = make_invitation(couple=couple, invited_by=partner, role="therapist")

    with on_commit():
        accept(client_for(TherapistFactory.create()), token)

    assert sorted(m.to[0] for m in mail.outbox) == sorted([partner.email, other.email])


def test_an_inviter_who_left_before_the_email_went_out_is_not_told_who_accepted(
    client_for: ClientFor,
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=therapist)
    assert accept(client_for(UserFactory.create()), token).status_code == 200
    Membership.objects.filter(couple=couple, user=therapist).update(left_at=timezone.now())

    tasks.notify_inviter_of_acceptance.delay(str(invitation.pk))

    assert mail.outbox == []


def _refused_to_a_newcomer(client_for: ClientFor, token: str) -> dict[str, Any]:
    """A user in no couple opens the invitation: 409, and they joined nothing; the error."""
    newcomer = UserFactory.create()
    response = accept(client_for(newcomer), token)
    assert response.status_code == 409
    assert not Membership.objects.filter(user=newcomer).exists()
    return first_error(response)


def test_only_a_therapist_account_accepts_a_therapist_invitation(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=therapist, role="therapist")
    user = UserFactory.create()

    response = accept(client_for(user), token)

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not Membership.objects.filter(couple=couple, user=user).exists()


def test_a_token_works_once(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=therapist)
    first = UserFactory.create()
    accept(client_for(first), token)

    assert _refused_to_a_newcomer(client_for, token)["code"] == "invalid_transition"
    invitation.refresh_from_db()
    assert invitation.accepted_by == first


def test_accepting_again_after_a_lost_answer_answers_the_couple_again(
    client_for: ClientFor,
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(couple=couple, invited_by=therapist)
    client = client_for(UserFactory.create())
    first = accept(client, token)

    again = accept(client, token)

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Membership.objects.filter(couple=couple).count() == 4


def test_an_expired_invitation_cannot_be_accepted(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(couple=couple, invited_by=therapist)

    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        error = _refused_to_a_newcomer(client_for, token)

    assert error["code"] == "invalid_transition"
    assert "expired" in error["detail"]


def test_a_revoked_invitation_cannot_be_accepted(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(couple=couple, invited_by=therapist, status="revoked")

    assert _refused_to_a_newcomer(client_for, token)["detail"] == "This invitation was revoked."


def test_an_unknown_token_is_refused_on_the_token_field(client_for: ClientFor) -> None:
    response = accept(client_for(UserFactory.create()), "made-up")

    assert response.status_code == 400
    assert first_error(response)["attr"] == "token"


def test_accepting_needs_a_token(client_for: ClientFor) -> None:
    response = client_for(UserFactory.create()).post(ACCEPT, {})

    assert response.status_code == 400
    assert first_error(response)["attr"] == "token"


def test_a_member_accepting_an_invitation_to_their_own_couple_gets_409(
    client_for: ClientFor,
) -> None:
    couple, partner, therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=therapist)

    response = accept(client_for(partner), token)

    assert response.status_code == 409
    assert first_error(response)["code"] == "conflict"
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_third_partner_is_refused_with_partner_limit(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _first, first_token = make_invitation(couple=couple, invited_by=therapist)
    second, second_token = make_invitation(couple=couple, invited_by=therapist)
    accept(client_for(UserFactory.create()), first_token)
    third = UserFactory.create()

    response = accept(client_for(third), second_token)

    assert response.status_code == 409
    assert first_error(response)["code"] == "partner_limit"
    assert Membership.objects.filter(couple=couple, role="partner", left_at=None).count() == 2
    second.refresh_from_db()
    assert second.status == "pending"


def test_no_one_joins_an_ended_couple(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(couple=couple, invited_by=therapist)
    Couple.objects.filter(pk=couple.pk).update(status="ended")
    user = UserFactory.create()

    response = accept(client_for(user), token)

    assert response.status_code == 409
    assert not Membership.objects.filter(user=user).exists()


# --- revoke -----------------------------------------------------------------------------------


def test_the_therapist_revokes_a_pending_invitation(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    invitation, _token = make_invitation(couple=couple, invited_by=therapist)

    response = client_for(therapist).post(revoke_url(invitation))

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


def test_revoking_again_changes_nothing(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    invitation, _token = make_invitation(couple=couple, invited_by=therapist, status="revoked")
    updated_at = invitation.updated_at

    response = client_for(therapist).post(revoke_url(invitation))

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    invitation.refresh_from_db()
    assert invitation.updated_at == updated_at


def test_an_accepted_invitation_cannot_be_revoked(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=therapist)
    accept(client_for(UserFactory.create()), token)

    response = client_for(therapist).post(revoke_url(invitation))

    assert response.status_code == 409
    assert first_error(response)["code"] == "invalid_transition"
    invitation.refresh_from_db()
    assert invitation.status == "accepted"


def sent_by_the_revoking_partner() -> tuple[Invitation, User]:
    """A therapist invitation and the partner who sent it, in a couple without therapist."""
    couple, partner, _other, _none = make_couple(therapist=False)
    invitation, _token = make_invitation(couple=couple, invited_by=partner, role="therapist")
    return invitation, partner


def declined_by_the_other_partner() -> tuple[Invitation, User]:
    """A therapist invitation and the partner asked to approve it, who declines by revoking."""
    invitation, _token, _partner, other = therapist_asked_for()
    return invitation, other


@pytest.mark.parametrize(
    "revoking",
    [
        pytest.param(sent_by_the_revoking_partner, id="their-own-invitation"),
        pytest.param(declined_by_the_other_partner, id="the-other-partner-declines"),
    ],
)
def test_a_partner_revokes_a_therapist_invitation_in_a_couple_without_therapist(
    client_for: ClientFor, revoking: Callable[[], tuple[Invitation, User]]
) -> None:
    invitation, partner = revoking()

    response = client_for(partner).post(revoke_url(invitation))

    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


# --- background -------------------------------------------------------------------------------


def test_invitation_tasks_are_registered_and_routed_to_the_email_queue() -> None:
    celery_app.loader.import_default_modules()
    names = [
        "engagement.invitations.send_invitation",
        "engagement.invitations.notify_inviter_of_acceptance",
        "engagement.invitations.notify_partners_of_therapist",
    ]

    for name in names:
        assert name in celery_app.tasks
        route = celery_app.amqp.router.route({}, name)
        assert route["queue"].name == "email"


def test_task_messages_show_workers_no_token_not_even_on_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(
        celery_app,
        "send_task",
        lambda name, args=None, kwargs=None, **options: sent.append((args, options)),
    )

    tasks.send_invitation.delay("invitation-id", "the-token")
    # A retry re-sends the task through a signature, which recomputes what workers log.
    tasks.send_invitation.s("invitation-id", "the-token").apply_async(countdown=30)

    assert [args for args, _options in sent] == [("invitation-id", "the-token")] * 2
    assert [options["argsrepr"] for _args, options in sent] == ["('invitation-id', '<secret>')"] * 2


# --- approval of a therapist invitation sent by a partner (SPEC section 1, "Roles") -----------


def approve_url(invitation: Invitation) -> str:
    return f"{INVITATIONS}{invitation.pk}/approve/"


def test_a_therapist_invitation_sent_by_a_partner_carries_approvals(
    client_for: ClientFor,
) -> None:
    couple, partner, _other, _none = make_couple(therapist=False)

    response = client_for(partner).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "dr@example.com", "role": "therapist"}
    )

    assert response.status_code == 201
    assert response.json()["approvals"] == []
    assert Invitation.objects.get().approvals == []


def test_invitations_sent_by_a_therapist_need_no_approval(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()

    response = client_for(therapist).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "dr@example.com", "role": "therapist"}
    )

    assert response.json()["approvals"] is None


def test_a_partner_invitation_sent_by_a_partner_needs_no_approval(client_for: ClientFor) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()

    response = client_for(partner).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "p@example.com", "role": "partner"}
    )

    assert response.json()["approvals"] is None


def couple_with_one_partner_and_no_therapist() -> tuple[Couple, User, None]:
    couple, partner, other, _none = make_couple(therapist=False)
    Membership.objects.filter(couple=couple, user=other).update(
        left_at=timezone.now(), partner_slot=None
    )
    return couple, partner, None


def test_the_other_partner_approves_a_therapist_invitation(client_for: ClientFor) -> None:
    invitation, _token, _partner, other = therapist_asked_for()

    with time_machine.travel("2026-12-01T10:00:00Z", tick=False):
        response = client_for(other).post(approve_url(invitation))

    assert response.status_code == 200
    assert response.json()["id"] == str(invitation.pk)
    [approval] = response.json()["approvals"]
    assert approval["partner"] == str(other.pk)
    assert approval["approved_at"].endswith("Z")
    assert parse_datetime(approval["approved_at"]) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    invitation.refresh_from_db()
    assert invitation.approved_by == {str(other.pk)}


def test_approving_again_changes_nothing(client_for: ClientFor) -> None:
    invitation, _token, _partner, other = therapist_asked_for()
    client = client_for(other)
    first = client.post(approve_url(invitation)).json()
    invitation.refresh_from_db()
    updated_at = invitation.updated_at

    again = client.post(approve_url(invitation))

    assert again.status_code == 200
    assert again.json()["approvals"] == first["approvals"]
    invitation.refresh_from_db()
    assert invitation.updated_at == updated_at


@pytest.mark.parametrize(
    ("approver", "status"),
    [
        pytest.param("inviter", 403, id="the inviter cannot approve their own invitation"),
        pytest.param("outsider", 404, id="an outsider cannot find an invitation to approve"),
    ],
)
def test_an_approval_from_who_may_not_give_it_changes_nothing(
    client_for: ClientFor, approver: str, status: int
) -> None:
    invitation, _token, partner, _other = therapist_asked_for()
    if approver == "inviter":
        user = partner
    else:
        _c, user, _o, _t = make_couple()

    response = client_for(user).post(approve_url(invitation))

    assert response.status_code == status
    invitation.refresh_from_db()
    assert invitation.approvals == []


def test_a_therapist_does_not_approve_invitations(client_for: ClientFor) -> None:
    couple, partner, _other, therapist = make_couple()
    invitation, _token = asked_therapist(couple, partner, status="revoked")

    response = client_for(therapist).post(approve_url(invitation))

    assert response.status_code == 403


def test_an_invitation_that_needs_no_approval_cannot_be_approved(client_for: ClientFor) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    invitation, _token = make_invitation(couple=couple, invited_by=partner, role="partner")

    response = client_for(partner).post(approve_url(invitation))

    assert response.status_code == 409
    assert first_error(response)["code"] == "approval_not_needed"
    invitation.refresh_from_db()
    assert invitation.approvals is None


@pytest.mark.parametrize("status", ["revoked", "expired"])
def test_only_a_pending_invitation_can_be_approved(client_for: ClientFor, status: str) -> None:
    couple, partner, other, _none = make_couple(therapist=False)
    fields: dict[str, Any] = (
        {"status": "revoked"}
        if status == "revoked"
        else {"expires_at": timezone.now() - timedelta(seconds=1)}
    )
    invitation, _token = asked_therapist(couple, partner, **fields)

    response = client_for(other).post(approve_url(invitation))

    assert response.status_code == 409
    assert first_error(response)["code"] == "invalid_transition"
    invitation.refresh_from_db()
    assert invitation.approvals == []


def test_accepting_before_the_other_partner_approved_answers_approval_pending(
    client_for: ClientFor,
) -> None:
    invitation, token, _partner, _other = therapist_asked_for()
    couple = invitation.couple
    therapist = TherapistFactory.create()

    response = accept(client_for(therapist), token)

    assert response.status_code == 409
    assert first_error(response)["code"] == "approval_pending"
    assert not Membership.objects.filter(couple=couple, user=therapist).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_once_approved_the_therapist_invitation_is_accepted(client_for: ClientFor) -> None:
    invitation, token, _partner, other = therapist_asked_for()
    client_for(other).post(approve_url(invitation))
    therapist = TherapistFactory.create()

    response = accept(client_for(therapist), token)

    assert response.status_code == 200
    assert [t["id"] for t in response.json()["therapists"]] == [str(therapist.pk)]


def asked_by_a_sole_partner(client_for: ClientFor) -> str:
    """The token of a therapist invitation from a couple's only partner."""
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    _invitation, token = asked_therapist(couple, partner)
    return token


def asked_before_the_other_partner_left(client_for: ClientFor) -> str:
    """The token of a therapist invitation whose approver has since left the couple."""
    invitation, token, _partner, other = therapist_asked_for()
    client_for(other).post(f"/api/v1/couples/{invitation.couple.pk}/leave/")
    return token


@pytest.mark.parametrize(
    "asked",
    [
        pytest.param(asked_by_a_sole_partner, id="a-sole-partner-asked"),
        pytest.param(asked_before_the_other_partner_left, id="the-other-partner-left"),
    ],
)
def test_a_therapist_invitation_needs_no_approval_from_anyone_outside_the_couple(
    client_for: ClientFor, asked: Callable[[ClientFor], str]
) -> None:
    response = accept(client_for(TherapistFactory.create()), asked(client_for))

    assert response.status_code == 200


def test_a_partner_joining_revokes_the_therapist_invitations_partners_sent(
    client_for: ClientFor,
) -> None:
    # The request asked the partners of its time; a new partnership asks again.
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    asked, _token = asked_therapist(couple, partner)
    _partner_invitation, token = make_invitation(
        couple=couple, invited_by=partner, email="p@example.com"
    )
    newcomer = UserFactory.create()

    assert accept(client_for(newcomer), token).status_code == 200

    assert Invitation.objects.get(pk=asked.pk).status == "revoked"
    assert client_for(newcomer).get(f"{INVITATIONS}{asked.pk}/").status_code == 404
    assert client_for(partner).get(f"{INVITATIONS}{asked.pk}/").status_code == 200


def test_a_newcomer_approves_what_is_asked_after_they_joined(client_for: ClientFor) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    _partner_invitation, token = make_invitation(couple=couple, invited_by=partner)
    newcomer = UserFactory.create()
    accept(client_for(newcomer), token)
    created = client_for(partner).post(
        INVITATIONS, {"couple": str(couple.pk), "email": "dr@example.com", "role": "therapist"}
    )
    therapist = TherapistFactory.create()

    refused = accept(client_for(therapist), created.json()["token"])
    approved = client_for(newcomer).post(f"{INVITATIONS}{created.json()['id']}/approve/")
    accepted = accept(client_for(therapist), created.json()["token"])

    assert first_error(refused)["code"] == "approval_pending"
    assert approved.status_code == 200
    assert accepted.status_code == 200


# --- who may still be let in (SPEC section 1, "Invitations and membership ends") -------------


def test_when_a_therapist_joins_the_invitations_partners_sent_are_revoked(
    client_for: ClientFor,
) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    spare, _ = make_invitation(couple=couple, invited_by=partner, role="partner")
    second_therapist, _ = asked_therapist(couple, partner, email="b@example.com")
    _used, token = asked_therapist(couple, partner)

    assert accept(client_for(TherapistFactory.create()), token).status_code == 200

    assert Invitation.objects.get(pk=spare.pk).status == "revoked"
    assert Invitation.objects.get(pk=second_therapist.pk).status == "revoked"


def test_an_invitation_from_a_partner_is_refused_once_the_couple_has_a_therapist(
    client_for: ClientFor,
) -> None:
    # The backstop at acceptance, for an invitation the revocation missed.
    couple, partner, _therapist = couple_with_one_partner()
    invitation, token = make_invitation(couple=couple, invited_by=partner)

    assert _refused_to_a_newcomer(client_for, token)["code"] == "invalid_transition"
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_an_invitation_from_someone_no_longer_in_the_couple_is_refused(
    client_for: ClientFor,
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(couple=couple, invited_by=therapist)
    Membership.objects.filter(couple=couple, user=therapist).update(left_at=timezone.now())

    assert _refused_to_a_newcomer(client_for, token)["detail"] == "This invitation was revoked."


def test_a_former_partner_never_becomes_the_couples_therapist(client_for: ClientFor) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    former_partner = Membership.objects.get(couple=couple, left_at__isnull=False).user
    User.objects.filter(pk=former_partner.pk).update(is_therapist=True)  # granted since
    _invitation, token = asked_therapist(couple, partner)

    response = accept(client_for(User.objects.get(pk=former_partner.pk)), token)

    assert response.status_code == 409
    assert first_error(response)["code"] == "role_conflict"
    assert not Membership.objects.filter(couple=couple, user=former_partner, left_at=None).exists()


def test_a_current_partner_who_is_a_therapist_cannot_join_as_the_couples_therapist(
    client_for: ClientFor,
) -> None:
    couple, partner, other, _none = make_couple(therapist=False)
    User.objects.filter(pk=other.pk).update(is_therapist=True)
    invitation, token = asked_therapist(couple, partner)
    client_for(other).post(approve_url(invitation))

    response = accept(client_for(User.objects.get(pk=other.pk)), token)

    assert response.status_code == 409
    assert first_error(response)["code"] == "conflict"
    assert Membership.objects.get(couple=couple, user=other, left_at=None).role == "partner"


def test_a_former_therapist_does_not_come_back_as_a_partner(client_for: ClientFor) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    colleague = TherapistFactory.create()
    Membership.objects.create(couple=couple, user=colleague, role="therapist")
    Membership.objects.filter(couple=couple, user=therapist).update(left_at=timezone.now())
    _invitation, token = make_invitation(couple=couple, invited_by=colleague, role="partner")

    response = accept(client_for(therapist), token)

    assert response.status_code == 409
    assert first_error(response)["code"] == "role_conflict"


# --- what the acceptance email promises -------------------------------------------------------


def test_a_partner_inviter_is_told_exactly_until_when_they_may_remove_who_joined(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    User.objects.filter(pk=partner.pk).update(timezone="Europe/Madrid")
    _invitation, token = make_invitation(couple=couple, invited_by=partner)

    with time_machine.travel("2026-12-01T10:00:00Z", tick=False), on_commit():
        accept(client_for(UserFactory.create()), token)

    [message] = mail.outbox
    body = " ".join(str(message.body).split())
    assert "you can remove them from the couple in the app until 8 December 2026, 11:00" in body
    assert "(Europe/Madrid), as long as your couple has no therapist" in body
    assert isinstance(message, EmailMultiAlternatives)
    assert "until 8 December 2026, 11:00" in str(message.alternatives[0][0])


def test_a_partner_whose_therapist_invitation_was_accepted_is_promised_no_undo(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    _invitation, token = asked_therapist(couple, partner)

    with on_commit():
        accept(client_for(TherapistFactory.create()), token)

    [message] = mail.outbox
    assert "remove them" not in str(message.body)
    assert "Partners cannot remove a therapist" in str(message.body)


def test_a_therapist_inviter_is_told_they_can_remove_who_joined(
    client_for: ClientFor, on_commit: Callable[[], Any]
) -> None:
    couple, _partner, therapist = couple_with_one_partner()
    _invitation, token = make_invitation(couple=couple, invited_by=therapist)

    with on_commit():
        accept(client_for(UserFactory.create()), token)

    [message] = mail.outbox
    assert "you can remove them from the couple in the app." in str(message.body)
    assert "until" not in str(message.body)


def test_a_partner_inviter_is_promised_no_undo_once_a_therapist_joined_first(
    client_for: ClientFor,
) -> None:
    couple, partner, _none = couple_with_one_partner_and_no_therapist()
    invitation, token = make_invitation(couple=couple, invited_by=partner)
    accept(client_for(UserFactory.create()), token)
    mail.outbox.clear()
    Membership.objects.create(couple=couple, user=TherapistFactory.create(), role="therapist")

    tasks.notify_inviter_of_acceptance.delay(str(invitation.pk))

    [message] = mail.outbox
    assert "remove them" not in str(message.body)
    assert "only they can remove a member" in str(message.body)
