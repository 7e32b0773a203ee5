"""`manage.py create_therapist`: a verified therapist, new or promoted (SPEC section 1, "Roles")."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError
from django.core.management import call_command

from accounts.authentication import issue_tokens
from accounts.models import EmailVerification
from accounts.models import User
from tests.accounts.client import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-operator-passphrase"


def run(email: str, name: str = "Dr. Ada", password: str = NEW_PASSWORD) -> str:
    out = StringIO()
    call_command("create_therapist", email=email, password=password, name=name, stdout=out)
    return out.getvalue()


def test_it_creates_a_verified_therapist() -> None:
    output = run("Ada@Example.com")

    user = User.objects.get(email="ada@example.com")
    assert output.startswith("Created therapist ada@example.com")
    assert user.is_therapist
    assert user.is_email_verified
    assert user.check_password(NEW_PASSWORD)


def test_promoting_an_account_replaces_its_password_and_ends_every_earlier_token() -> None:
    user = UserFactory.create(email="partner@example.com")
    pair = issue_tokens(user)
    EmailVerification.objects.create(
        user=user,
        email="new@example.com",
        purpose=EmailVerification.Purpose.EMAIL_CHANGE,
        expires_at=user.date_joined,
    )

    output = run("partner@example.com")

    assert output.startswith("Updated (earlier sign-ins ended) therapist partner@example.com")
    user.refresh_from_db()
    assert user.is_therapist
    assert user.display_name == "Dr. Ada"
    assert user.check_password(NEW_PASSWORD)
    assert bearer(pair["access"]).get("/api/v1/me/").status_code == 401
    assert not EmailVerification.objects.filter(user=user).exists()
    fresh = issue_tokens(user)
    assert bearer(fresh["access"]).get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize("name", ["Dr.\nAda", "Dr. \u202eAda", "\u200b"])
def test_it_refuses_a_name_that_forges_or_hides(name: str) -> None:
    with pytest.raises(CommandError, match="--name"):
        run("ada@example.com", name=name)

    assert not User.objects.filter(email="ada@example.com").exists()


def test_it_refuses_a_weak_password() -> None:
    with pytest.raises(CommandError):
        run("ada@example.com", password="123")

    assert not User.objects.exists()
