"""The caller's profile and preferences, and changing the account's email (`/me/`, `/me/email/`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms.models import model_to_dict

from accounts.models import EmailVerification
from accounts.models import User
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import error_attrs
from tests.accounts.client import error_codes
from tests.accounts.conftest import FRONTEND_URL
from tests.accounts.conftest import SignedIn
from tests.accounts.paths import ME
from tests.accounts.paths import SIGN_IN
from tests.accounts.paths import VERIFY
from tests.accounts.profile_fields import BAD_PROFILE_FIELDS
from tests.factories import PASSWORD
from tests.factories import UserFactory
from tests.smtp import Mailbox

pytestmark = pytest.mark.django_db

EMAIL = "/api/v1/me/email/"


@pytest.fixture
def user() -> User:
    return UserFactory.create(email="alex@example.com", display_name="Alex")


def test_me_returns_the_profile_and_preferences(user: User, signed_in: SignedIn) -> None:
    client, _ = signed_in(user)

    response = client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": "alex@example.com",
        "display_name": "Alex",
        "timezone": "UTC",
        "is_therapist": False,
        "weekly_digest": True,
        "digest_detail": "full",
        "digest_weekday": 0,
        "digest_hour": 8,
        "checkin_reminder": True,
        "reminder_hour": 20,
        "reminder_email": False,
        "language": "en",
        "date_joined": response.json()["date_joined"],
    }
    assert response.json()["date_joined"].endswith("Z")
    assert response.headers["Cache-Control"] == "no-store"


def test_me_updates_the_display_name_and_preferences(user: User, signed_in: SignedIn) -> None:
    client, _ = signed_in(user)
    changes = {
        "display_name": "  Alex R.  ",
        "timezone": "America/Montreal",
        "weekly_digest": False,
        "digest_detail": "minimal",
        "digest_weekday": 6,
        "digest_hour": 23,
    }

    response = client.patch(ME, changes)

    assert response.status_code == 200
    assert response.json()["display_name"] == "Alex R."
    user.refresh_from_db()
    # What was sent is what is stored, the name trimmed.
    assert model_to_dict(user, fields=list(changes)) == {**changes, "display_name": "Alex R."}


def test_me_ignores_read_only_fields(user: User, signed_in: SignedIn) -> None:
    client, _ = signed_in(user)

    response = client.patch(
        ME, {"email": "new@example.com", "is_therapist": True, "id": "x", "date_joined": "x"}
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == "alex@example.com"
    assert not user.is_therapist


# A bad preference (PATCH /me/) or a bad email change (POST /me/email/): a 400 naming the field.
BAD_PREFERENCES = [
    *BAD_PROFILE_FIELDS,
    ({"digest_detail": "loud"}, "digest_detail"),
    ({"digest_weekday": 7}, "digest_weekday"),
    ({"digest_weekday": -1}, "digest_weekday"),
    ({"digest_hour": 24}, "digest_hour"),
    ({"weekly_digest": "sometimes"}, "weekly_digest"),
]
BAD_EMAIL_CHANGES = [
    ({"email": "not-an-address", "password": PASSWORD}, "email"),
    ({"email": "ALEX@example.com", "password": PASSWORD}, "email"),
    ({"password": PASSWORD}, "email"),
    ({"email": "new@example.com"}, "password"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "attr"),
    [("patch", ME, body, attr) for body, attr in BAD_PREFERENCES]
    + [("post", EMAIL, body, attr) for body, attr in BAD_EMAIL_CHANGES],
)
def test_bad_preferences_and_email_changes_are_refused_naming_the_field(
    user: User, signed_in: SignedIn, method: str, path: str, body: dict[str, Any], attr: str
) -> None:
    client, _ = signed_in(user)

    response = getattr(client, method)(path, body)

    assert response.status_code == 400
    assert error_attrs(response.json()) == {attr}


def test_me_needs_sign_in(api: CommittingAPIClient) -> None:
    assert api.get(ME).status_code == 401
    assert api.patch(ME, {"display_name": "X"}).status_code == 401
    assert api.delete(ME, {"password": PASSWORD}).status_code == 401


def test_email_change_mails_a_link_to_the_new_address_and_a_notice_to_the_old(
    api: CommittingAPIClient, user: User, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    client, _ = signed_in(user)

    response = client.post(EMAIL, {"email": "Alex.New@Example.com", "password": PASSWORD})

    assert response.status_code == 202
    assert User.objects.get(pk=user.pk).email == "alex@example.com"  # not before it is verified
    link = mailbox.only("alex.new@example.com")
    assert link.subject == "Confirm your new Duet email address"
    assert link.link("/verify").startswith(f"{FRONTEND_URL}/verify?token=")
    notice = mailbox.only("alex@example.com")
    assert notice.subject == "Your Duet email address is being changed"
    assert "alex.new@example.com" not in notice.text  # the old inbox may be a shared one

    verified = api.post(VERIFY, {"token": link.link_params("/verify")["token"]})

    assert verified.status_code == 200
    assert set(verified.json()) == {"access", "refresh", "access_expires_at", "refresh_expires_at"}
    assert User.objects.get(pk=user.pk).email == "alex.new@example.com"
    new_sign_in = api.post(SIGN_IN, {"email": "alex.new@example.com", "password": PASSWORD})
    old_sign_in = api.post(SIGN_IN, {"email": "alex@example.com", "password": PASSWORD})
    assert (new_sign_in.status_code, old_sign_in.status_code) == (200, 401)
    assert not EmailVerification.objects.filter(user=user).exists()


def test_email_change_to_a_taken_address_answers_the_same_and_mails_a_note_to_it(
    user: User, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    UserFactory.create(email="taken@example.com", display_name="Jo")
    client, _ = signed_in(user)
    free = client.post(EMAIL, {"email": "free@example.com", "password": PASSWORD})

    taken = client.post(EMAIL, {"email": "TAKEN@example.com", "password": PASSWORD})

    assert (taken.status_code, taken.content) == (free.status_code, free.content)
    note = mailbox.only("taken@example.com")
    assert note.subject == "A request to use this address with Duet"
    assert not [url for url in note.links() if "/verify" in url]
    assert [m.subject for m in mailbox.to("alex@example.com")] == [
        "Your Duet email address is being changed"
    ] * 2
    assert User.objects.get(pk=user.pk).email == "alex@example.com"


def test_email_change_needs_the_password(user: User, signed_in: SignedIn, mailbox: Mailbox) -> None:
    client, _ = signed_in(user)

    response = client.post(EMAIL, {"email": "new@example.com", "password": "not-the-password"})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"password"}
    assert error_codes(response.json()) == {"incorrect_password"}
    assert mailbox.messages == []


def test_an_email_change_link_fails_when_the_address_was_taken_meanwhile(
    api: CommittingAPIClient, user: User, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    client, _ = signed_in(user)
    client.post(EMAIL, {"email": "contested@example.com", "password": PASSWORD})
    token = mailbox.only("contested@example.com").link_params("/verify")["token"]
    UserFactory.create(email="contested@example.com")

    response = api.post(VERIFY, {"token": token})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"token"}
    assert User.objects.get(pk=user.pk).email == "alex@example.com"


def test_only_the_latest_email_change_link_works(
    api: CommittingAPIClient, user: User, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    client, _ = signed_in(user)
    client.post(EMAIL, {"email": "first@example.com", "password": PASSWORD})
    client.post(EMAIL, {"email": "second@example.com", "password": PASSWORD})
    first = mailbox.only("first@example.com").link_params("/verify")["token"]
    second = mailbox.only("second@example.com").link_params("/verify")["token"]

    assert api.post(VERIFY, {"token": first}).status_code == 400
    assert api.post(VERIFY, {"token": second}).status_code == 200
    assert User.objects.get(pk=user.pk).email == "second@example.com"
