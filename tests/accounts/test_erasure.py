"""`DELETE /me/`: the account and its personal data go; what belongs to others stays, anonymised."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.authentication import issue_tokens
from accounts.models import EmailVerification
from accounts.models import User
from engagement.models import Attendance
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import IdempotencyRecord
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import Removal
from engagement.models import TherapySession
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import bearer
from tests.accounts.client import error_attrs
from tests.accounts.conftest import SignedIn
from tests.factories import PASSWORD
from tests.factories import AttendanceFactory
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import CoupleFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.smtp import Mailbox

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
SIGN_IN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
TODAY = dt.date.today()


def _invitation(couple: Couple, invited_by: User, email: str, **fields: object) -> Invitation:
    return Invitation.objects.create(
        couple=couple,
        invited_by=invited_by,
        email=email,
        role="partner",
        token_hash=f"{email}-hash",
        expires_at=timezone.now() + dt.timedelta(days=7),
        **fields,
    )


def test_erasure_needs_the_right_password(user_in_couple: User, signed_in: SignedIn) -> None:
    client, _ = signed_in(user_in_couple)

    wrong = client.delete(ME, {"password": "not-the-password"})
    missing = client.delete(ME, {})

    assert wrong.status_code == missing.status_code == 400
    assert error_attrs(wrong.json()) == error_attrs(missing.json()) == {"password"}
    user_in_couple.refresh_from_db()
    assert user_in_couple.erased_at is None
    assert CheckIn.objects.filter(author=user_in_couple).exists()


@pytest.fixture
def user_in_couple() -> User:
    _, partner, _, _ = make_couple()
    CheckInFactory.create(couple=partner.memberships.get().couple, author=partner)
    return partner


def test_erasure_leaves_no_personal_data_behind(
    api: CommittingAPIClient, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    User.objects.filter(pk=partner.pk).update(
        email="robin.private@example.com",
        display_name="Robin Private",
        timezone="Europe/Oslo",
        digest_hour=6,
    )
    partner.refresh_from_db()
    private, shared, for_therapist = (
        CheckInFactory.create(
            couple=couple,
            author=partner,
            date=TODAY - dt.timedelta(days=days_ago),
            visibility=visibility,
            note=note,
        )
        for days_ago, visibility, note in (
            (0, "private", "my secret"),
            (1, "couple", "we talked"),
            (2, "therapist", "for the therapist"),
        )
    )
    others_checkin = CheckInFactory.create(couple=couple, author=other, visibility="couple")
    own_promise = CommitmentFactory.create(
        couple=couple, owner=partner, created_by=partner, title="Call mum on Sundays"
    )
    homework = CommitmentFactory.create(
        couple=couple, owner=partner, created_by=therapist, title="Read chapter 2"
    )
    session = TherapySessionFactory.create(couple=couple, therapist_notes="notes")
    attendance = AttendanceFactory.create(session=session, partner=partner, participation=2)
    sent = _invitation(couple, partner, "friend@example.com")
    accepted = _invitation(
        couple, therapist, "robin.private@example.com", status="accepted", accepted_by=partner
    )
    IdempotencyRecord.objects.create(
        user=partner, method="POST", path="/x", key="k", request_fingerprint="f"
    )
    client, pair = signed_in(partner)
    client.post("/api/v1/me/email/", {"email": "robin.next@example.com", "password": PASSWORD})
    assert EmailVerification.objects.filter(user=partner).exists()
    other_device = issue_tokens(partner)

    response = client.delete(ME, {"password": PASSWORD})

    assert response.status_code == 204
    partner.refresh_from_db()
    assert re.fullmatch(r"erased-[0-9a-f]{32}@invalid", partner.email)
    assert partner.display_name == "Former partner"
    assert not partner.has_usable_password()
    assert not partner.is_active
    assert partner.erased_at is not None
    assert partner.email_verified_at is None
    assert (partner.timezone, partner.digest_hour, partner.weekly_digest) == ("UTC", 8, False)
    # Personal data: gone.
    assert not CheckIn.objects.filter(author=partner).exists()
    assert not Commitment.objects.filter(pk=own_promise.pk).exists()
    assert not EmailVerification.objects.filter(user=partner).exists()
    assert not IdempotencyRecord.objects.filter(user=partner).exists()
    assert not Removal.objects.filter(user=partner).exists()
    accepted.refresh_from_db()
    assert accepted.email == partner.email  # the address it was sent to is replaced too
    # Tokens: all revoked, and the credentials no longer sign in.
    assert not OutstandingToken.objects.filter(user=partner, blacklistedtoken__isnull=True).exists()
    assert bearer(pair["access"]).get(ME).status_code == 401
    assert api.post(REFRESH, {"refresh": other_device["refresh"]}).status_code == 401
    sign_in = {"email": "robin.private@example.com", "password": PASSWORD}
    assert api.post(SIGN_IN, sign_in).status_code == 401
    # Memberships end and free the partner slot; the others' apps are told what went.
    membership = Membership.objects.get(user=partner, couple=couple)
    assert membership.left_at is not None
    assert membership.partner_slot is None
    removed_for_other = set(Removal.objects.filter(user=other).values_list("object_id", flat=True))
    removed_for_therapist = set(
        Removal.objects.filter(user=therapist).values_list("object_id", flat=True)
    )
    assert removed_for_other == {shared.id, own_promise.id}
    assert removed_for_therapist == {shared.id, for_therapist.id, own_promise.id}
    assert private.id not in removed_for_other | removed_for_therapist
    # What belongs to others stays.
    assert CheckIn.objects.filter(pk=others_checkin.pk).exists()
    assert Commitment.objects.get(pk=homework.pk).owner_id == partner.pk
    assert TherapySession.objects.filter(pk=session.pk).exists()
    # Their attendance is their clinical record: erased with the rest by default
    # (CLINICAL_RETENTION_YEARS 0; tests/safety/test_privacy.py keeps it for a while).
    assert not Attendance.objects.filter(pk=attendance.pk).exists()
    assert Couple.objects.filter(pk=couple.pk).exists()
    sent.refresh_from_db()
    assert sent.status == "revoked"
    # Nothing personal is left anywhere on the user row.
    stored = " ".join(
        str(value) for value in User.objects.filter(pk=partner.pk).values().get().values()
    )
    for personal in ("robin", "Robin", "Oslo", "example.com"):
        assert personal not in stored


def test_erasure_frees_the_place_for_a_new_partner(signed_in: SignedIn) -> None:
    couple, partner, _, _ = make_couple()
    client, _ = signed_in(partner)
    slot = Membership.objects.get(user=partner).partner_slot

    client.delete(ME, {"password": PASSWORD})

    newcomer = UserFactory.create()
    Membership.objects.create(couple=couple, user=newcomer, role="partner", partner_slot=slot)
    assert (
        Membership.objects.filter(couple=couple, left_at__isnull=True, role="partner").count() == 2
    )


def test_an_erased_address_can_register_again(
    api: CommittingAPIClient, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    user = UserFactory.create(email="again@example.com")
    client, _ = signed_in(user)
    client.delete(ME, {"password": PASSWORD})

    api.post(
        "/api/v1/auth/register/",
        {"email": "again@example.com", "password": PASSWORD, "display_name": "Again"},
    )

    assert mailbox.only("again@example.com").subject == "Confirm your Duet email address"
    assert User.objects.filter(email="again@example.com").exclude(pk=user.pk).exists()


def test_a_couple_nobody_else_ever_joined_goes_with_the_account(signed_in: SignedIn) -> None:
    couple = CoupleFactory.create()
    user = UserFactory.create()
    Membership.objects.create(couple=couple, user=user, role="partner", partner_slot=1)
    CheckInFactory.create(couple=couple, author=user)
    client, _ = signed_in(user)

    client.delete(ME, {"password": PASSWORD})

    assert not Couple.objects.filter(pk=couple.pk).exists()


def test_erasing_a_therapist_keeps_the_couples_records(signed_in: SignedIn) -> None:
    couple, _, _, therapist = make_couple()
    assert therapist is not None
    session = TherapySessionFactory.create(couple=couple, created_by=therapist)
    client, _ = signed_in(therapist)

    assert client.delete(ME, {"password": PASSWORD}).status_code == 204

    therapist.refresh_from_db()
    assert therapist.display_name == "Former therapist"
    assert not therapist.is_therapist
    assert TherapySession.objects.filter(pk=session.pk).exists()
    assert Membership.objects.get(user=therapist).left_at is not None


def test_mail_queued_for_an_account_erased_since_is_not_sent(mailbox: Mailbox) -> None:
    from accounts.tasks import send_account_note

    user = UserFactory.create(erased_at=timezone.now(), is_active=False)

    send_account_note.delay("password-changed", str(user.pk))

    assert mailbox.messages == []
