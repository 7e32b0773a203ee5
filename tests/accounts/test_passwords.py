"""Password change and reset: validators, single-use links, and every earlier token ending."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.authentication import issue_tokens
from accounts.models import EmailVerification
from accounts.models import User
from tests.accounts.client import PASSWORD_NEW
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import bearer
from tests.accounts.client import error_attrs
from tests.accounts.conftest import FRONTEND_URL
from tests.accounts.conftest import SignedIn
from tests.accounts.paths import CHANGE
from tests.accounts.paths import CONFIRM
from tests.accounts.paths import ME
from tests.accounts.paths import REFRESH
from tests.accounts.paths import RESET
from tests.accounts.paths import SIGN_IN
from tests.factories import PASSWORD
from tests.factories import UserFactory
from tests.smtp import Mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def user() -> User:
    return UserFactory.create(email="kim@example.com", display_name="Kim")


def signs_in(api: CommittingAPIClient, password: str, email: str = "kim@example.com") -> bool:
    return bool(api.post(SIGN_IN, {"email": email, "password": password}).status_code == 200)


def test_changing_the_password_ends_every_earlier_token(
    api: CommittingAPIClient, user: User, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    client, pair = signed_in(user)
    other_device = issue_tokens(user)

    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password": PASSWORD_NEW})

    assert response.status_code == 204
    assert bearer(pair["access"]).get(ME).status_code == 401
    assert bearer(other_device["access"]).get(ME).status_code == 401
    assert api.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    assert api.post(REFRESH, {"refresh": other_device["refresh"]}).status_code == 401
    assert signs_in(api, PASSWORD_NEW)
    assert not signs_in(api, PASSWORD)
    assert mailbox.only("kim@example.com").subject == "Your Duet password was changed"


def test_password_change_needs_the_old_password(user: User, signed_in: SignedIn) -> None:
    client, _ = signed_in(user)

    response = client.post(CHANGE, {"old_password": "not-it-at-all", "new_password": PASSWORD_NEW})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"old_password"}
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.parametrize("weak", ["short", "password123", "12345678901", "kim@example.com"])
def test_password_change_applies_the_validators_to_the_new_password(
    user: User, signed_in: SignedIn, weak: str
) -> None:
    client, _ = signed_in(user)

    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password": weak})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"new_password"}


def test_password_change_needs_sign_in(api: CommittingAPIClient) -> None:
    response = api.post(CHANGE, {"old_password": PASSWORD, "new_password": PASSWORD_NEW})

    assert response.status_code == 401


def test_password_reset_mails_a_single_use_link_that_ends_earlier_tokens(
    api: CommittingAPIClient, user: User, mailbox: Mailbox
) -> None:
    earlier = issue_tokens(user)

    assert api.post(RESET, {"email": "KIM@example.com"}).status_code == 202

    received = mailbox.only("kim@example.com")
    assert received.subject == "Reset your Duet password"
    assert received.link("/reset").startswith(f"{FRONTEND_URL}/reset?uid=")
    params = received.link_params("/reset")
    body = {"uid": params["uid"], "token": params["token"], "new_password": PASSWORD_NEW}
    assert api.post(CONFIRM, body).status_code == 204
    assert signs_in(api, PASSWORD_NEW)
    assert bearer(earlier["access"]).get(ME).status_code == 401
    assert api.post(REFRESH, {"refresh": earlier["refresh"]}).status_code == 401
    again = api.post(CONFIRM, {**body, "new_password": "yet-another-passphrase"})
    assert again.status_code == 400
    assert error_attrs(again.json()) == {"token"}


def test_password_reset_answers_202_for_an_unknown_address_and_mails_nothing(
    api: CommittingAPIClient, user: User, mailbox: Mailbox
) -> None:
    known = api.post(RESET, {"email": "kim@example.com"})
    unknown = api.post(RESET, {"email": "stranger@example.com"})

    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert unknown.status_code == 202
    assert mailbox.to("stranger@example.com") == []


def test_a_password_reset_link_lives_one_hour(
    api: CommittingAPIClient, user: User, mailbox: Mailbox
) -> None:
    api.post(RESET, {"email": "kim@example.com"})
    params = mailbox.only("kim@example.com").link_params("/reset")
    body = {"uid": params["uid"], "token": params["token"], "new_password": PASSWORD_NEW}

    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, minutes=1)):
        response = api.post(CONFIRM, body)

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"token"}
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_password_reset_confirm_applies_the_validators(
    api: CommittingAPIClient, user: User, mailbox: Mailbox
) -> None:
    api.post(RESET, {"email": "kim@example.com"})
    params = mailbox.only("kim@example.com").link_params("/reset")

    response = api.post(CONFIRM, {**params, "new_password": "password"})

    assert response.status_code == 400
    assert error_attrs(response.json()) == {"new_password"}


@pytest.mark.parametrize(
    ("uid", "token"),
    [("not-base64!", "abc"), ("MTIz", "abc"), ("", "abc"), ("MTIz", "")],
)
def test_password_reset_confirm_rejects_a_bad_link_naming_the_field(
    api: CommittingAPIClient, user: User, uid: str, token: str
) -> None:
    response = api.post(CONFIRM, {"uid": uid, "token": token, "new_password": PASSWORD_NEW})

    assert response.status_code == 400
    assert error_attrs(response.json()) <= {"uid", "token"}


def test_password_reset_confirms_an_address_that_was_never_verified(
    api: CommittingAPIClient, mailbox: Mailbox
) -> None:
    UserFactory.create(email="unsure@example.com", email_verified_at=None)
    api.post(RESET, {"email": "unsure@example.com"})
    params = mailbox.only("unsure@example.com").link_params("/reset")

    assert api.post(CONFIRM, {**params, "new_password": PASSWORD_NEW}).status_code == 204

    assert signs_in(api, PASSWORD_NEW, email="unsure@example.com")


def test_password_reset_cancels_a_pending_email_change(
    api: CommittingAPIClient, user: User, signed_in: SignedIn, mailbox: Mailbox
) -> None:
    client, _ = signed_in(user)
    client.post("/api/v1/me/email/", {"email": "thief@example.com", "password": PASSWORD})
    change_link = mailbox.only("thief@example.com").link_params("/verify")["token"]
    api.post(RESET, {"email": "kim@example.com"})
    reset = next(m for m in mailbox.to("kim@example.com") if m.subject.startswith("Reset"))
    params = reset.link_params("/reset")

    api.post(CONFIRM, {**params, "new_password": PASSWORD_NEW})

    assert not EmailVerification.objects.filter(user=user).exists()
    assert api.post("/api/v1/auth/verify/", {"token": change_link}).status_code == 400
    assert User.objects.get(pk=user.pk).email == "kim@example.com"


def test_an_erased_account_gets_no_reset_link(api: CommittingAPIClient, mailbox: Mailbox) -> None:
    UserFactory.create(email="erased@example.com", erased_at=timezone.now(), is_active=False)

    assert api.post(RESET, {"email": "erased@example.com"}).status_code == 202

    assert mailbox.messages == []
