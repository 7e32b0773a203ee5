"""Registration and email verification (SPEC §2 User, §4 /auth/register/ and /auth/verify/)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from accounts.models import EmailVerification
from accounts.models import User
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import bearer
from tests.accounts.client import error_attrs
from tests.accounts.client import error_codes
from tests.accounts.conftest import FRONTEND_URL
from tests.accounts.paths import REGISTER
from tests.accounts.paths import SIGN_IN
from tests.accounts.paths import VERIFY
from tests.accounts.profile_fields import BAD_PROFILE_FIELDS
from tests.factories import PASSWORD
from tests.factories import UserFactory
from tests.smtp import Mailbox

pytestmark = pytest.mark.django_db


def register(api: CommittingAPIClient, email: str, **fields: Any) -> Any:
    body = {"email": email, "password": PASSWORD, "display_name": "Robin", **fields}
    return api.post(REGISTER, body)


def test_registering_a_new_address_answers_202_and_mails_a_verification_link(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    response = register(api, "new@example.com", timezone="Europe/Paris")

    assert response.status_code == 202
    user = User.objects.get(email="new@example.com")
    assert user.email_verified_at is None
    assert user.timezone == "Europe/Paris"
    assert not user.has_usable_password()  # the password waits on the verification
    received = mailbox.only("new@example.com")
    assert received.subject == "Confirm your Duet email address"
    assert received.link("/verify").startswith(f"{FRONTEND_URL}/verify?token=")
    assert received.link_params("/verify")["token"] in received.html


def test_registering_a_taken_address_answers_the_same_and_mails_a_note_instead(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    existing = UserFactory.create(email="taken@example.com")
    fresh = register(api, "fresh@example.com")

    taken = register(api, "taken@example.com", password="another-long-passphrase")

    assert (taken.status_code, taken.content) == (fresh.status_code, fresh.content)
    assert taken.status_code == 202
    note = mailbox.only("taken@example.com")
    assert note.subject == "About creating a Duet account"
    assert "already has an account" in note.text
    assert not [url for url in note.links() if "/verify" in url]
    assert mailbox.only("fresh@example.com").subject == "Confirm your Duet email address"
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    assert not EmailVerification.objects.filter(user=existing).exists()


def test_email_uniqueness_ignores_case(api: CommittingAPIClient, mailbox: Mailbox) -> None:
    UserFactory.create(email="a@x.com")

    response = register(api, "A@X.com")

    assert response.status_code == 202
    assert User.objects.filter(email__iexact="a@x.com").count() == 1
    assert mailbox.only("a@x.com").subject == "About creating a Duet account"


def test_opening_the_verification_link_confirms_the_address_and_signs_in(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    register(api, "Robin@Example.com")
    token = mailbox.only("robin@example.com").link_params("/verify")["token"]

    response = api.post(VERIFY, {"token": token})

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh", "access_expires_at", "refresh_expires_at"}
    me = bearer(response.json()["access"]).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "robin@example.com"
    user = User.objects.get(email="robin@example.com")
    assert user.email_verified_at is not None
    signed_in = api.post(SIGN_IN, {"email": "ROBIN@example.com", "password": PASSWORD})
    assert signed_in.status_code == 200


def test_a_verification_link_works_only_once(api: CommittingAPIClient, mailbox: Mailbox) -> None:
    register(api, "once@example.com")
    token = mailbox.only("once@example.com").link_params("/verify")["token"]
    assert api.post(VERIFY, {"token": token}).status_code == 200

    again = api.post(VERIFY, {"token": token})

    assert again.status_code == 400
    assert error_attrs(again.json()) == {"token"}
    assert error_codes(again.json()) == {"invalid_token"}


def test_a_verification_link_expires(api: CommittingAPIClient, mailbox: Mailbox) -> None:
    register(api, "late@example.com")
    token = mailbox.only("late@example.com").link_params("/verify")["token"]

    with time_machine.travel(timezone.now() + dt.timedelta(days=2, minutes=1)):
        response = api.post(VERIFY, {"token": token})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"token"}
    assert User.objects.get(email="late@example.com").email_verified_at is None


def test_only_a_hash_of_the_verification_token_is_stored(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    register(api, "hash@example.com")
    token = mailbox.only("hash@example.com").link_params("/verify")["token"]

    verification = EmailVerification.objects.get(email="hash@example.com")

    assert verification.token_hash
    assert token not in verification.token_hash


def test_a_made_up_verification_token_is_refused(api: CommittingAPIClient) -> None:
    response = api.post(VERIFY, {"token": "not-a-real-token"})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"token"}


def test_unverified_accounts_cannot_sign_in(api: CommittingAPIClient, mailbox: Mailbox) -> None:
    register(api, "pending@example.com")
    UserFactory.create(email="known@example.com")

    unverified = api.post(SIGN_IN, {"email": "pending@example.com", "password": PASSWORD})
    wrong = api.post(SIGN_IN, {"email": "known@example.com", "password": "not-the-password"})

    assert unverified.status_code == wrong.status_code == 401
    assert unverified.json() == wrong.json()


def test_a_second_registration_before_verifying_mails_a_link_carrying_its_own_password(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    register(api, "twice@example.com", password="first-long-passphrase")
    register(api, "twice@example.com", password="second-long-passphrase")
    first, second = mailbox.to("twice@example.com")
    assert first.subject == second.subject == "Confirm your Duet email address"

    assert api.post(VERIFY, {"token": first.link_params("/verify")["token"]}).status_code == 200

    assert User.objects.get(email="twice@example.com").check_password("first-long-passphrase")
    # Opening one link ends the other: the address is confirmed with one password.
    second_token = second.link_params("/verify")["token"]
    assert api.post(VERIFY, {"token": second_token}).status_code == 400


def test_registration_rejects_weak_passwords_naming_the_field(api: CommittingAPIClient) -> None:
    response = register(api, "weak@example.com", password="password")

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"password"}
    assert not User.objects.filter(email="weak@example.com").exists()


def test_registration_rejects_a_password_like_the_address_whether_or_not_it_is_taken(
    api: CommittingAPIClient,
) -> None:
    UserFactory.create(email="similar.person@example.com")

    taken = register(api, "similar.person@example.com", password="similar.person")
    free = register(api, "similar.human@example.com", password="similar.human")

    assert taken.status_code == free.status_code == 400
    assert error_codes(taken.json()) == error_codes(free.json())


@pytest.mark.parametrize(
    ("fields", "attr"),
    [
        ({"email": ""}, "email"),
        ({"email": "not-an-address"}, "email"),
        *BAD_PROFILE_FIELDS,
        ({"password": ""}, "password"),
    ],
)
def test_registration_rejects_bad_input_naming_the_field(
    api: CommittingAPIClient, fields: dict[str, str], attr: str
) -> None:
    body = {"email": "ok@example.com", "password": PASSWORD, "display_name": "Robin", **fields}

    response = api.post(REGISTER, body)

    assert response.status_code == 400
    assert error_attrs(response.json()) == {attr}
    assert response.json()["type"] == "validation_error"


def test_registration_without_an_email_names_the_missing_field(api: CommittingAPIClient) -> None:
    response = api.post(REGISTER, {"password": PASSWORD, "display_name": "Robin"})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"email"}


def test_registration_makes_a_partner_never_a_therapist(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    register(api, "keen@example.com", is_therapist=True, is_staff=True)

    user = User.objects.get(email="keen@example.com")
    assert not user.is_therapist
    assert not user.is_staff


def test_registrations_nobody_confirmed_are_forgotten_after_a_week(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    from accounts.tasks import flush_expired_tokens

    register(api, "never@example.com")
    register(api, "recent@example.com")
    User.objects.filter(email="never@example.com").update(
        date_joined=timezone.now() - dt.timedelta(days=8)
    )
    verified = UserFactory.create(date_joined=timezone.now() - dt.timedelta(days=30))

    flush_expired_tokens.delay()

    assert not User.objects.filter(email="never@example.com").exists()
    assert User.objects.filter(email="recent@example.com").exists()
    assert User.objects.filter(pk=verified.pk).exists()
