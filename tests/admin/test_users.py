"""Therapist status granted and withdrawn by staff; sign-in records shown without secrets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from accounts.models import EmailVerification
from accounts.models import User
from tests.factories import TherapistFactory
from tests.factories import UserFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db


def _act(client: Client, action: str, *users: User) -> str:
    response = client.post(
        "/admin/accounts/user/",
        {"action": action, "_selected_action": [str(u.pk) for u in users]},
        follow=True,
    )
    assert response.status_code == 200
    return " ".join(str(m) for m in response.context["messages"])


def test_staff_grant_therapist_status(staff_client: Client) -> None:
    user = UserFactory.create()
    erased = UserFactory.create(erased_at=timezone.now())

    message = _act(staff_client, "grant_therapist", user, erased)

    user.refresh_from_db()
    erased.refresh_from_db()
    assert user.is_therapist
    assert not erased.is_therapist  # an erased account is no one any more
    assert "1 user(s) granted therapist status" in message
    assert LogEntry.objects.get(object_id=str(user.pk)).change_message == (
        "Granted therapist status."
    )


def test_staff_withdraw_therapist_status(staff_client: Client) -> None:
    therapist = TherapistFactory.create()

    message = _act(staff_client, "withdraw_therapist", therapist)

    therapist.refresh_from_db()
    assert not therapist.is_therapist
    assert "1 user(s) no longer have therapist status" in message
    assert "still hold a therapist's place" not in message


def test_withdrawing_tells_staff_where_the_user_is_still_a_therapist(
    staff_client: Client,
) -> None:
    _, _, _, therapist = make_couple()
    assert therapist is not None
    make_couple(therapist=therapist)

    message = _act(staff_client, "withdraw_therapist", therapist)

    # Memberships stay: taking someone out of a couple is a decision of its own.
    assert therapist.memberships.filter(left_at__isnull=True).count() == 2
    assert "1 of them still hold a therapist's place in 2 couple(s)" in message


def test_the_verification_page_shows_no_hash(staff_client: Client) -> None:
    user = UserFactory.create()
    verification = EmailVerification.objects.create(
        user=user,
        email="new@example.com",
        purpose="email_change",
        password_hash="argon2$secret-hash-of-a-password",
        token_hash="f" * 64,
        expires_at=timezone.now() + dt.timedelta(days=1),
    )

    page = staff_client.get(
        f"/admin/accounts/emailverification/{verification.pk}/change/"
    ).content.decode()

    assert "new@example.com" in page
    assert "secret-hash-of-a-password" not in page
    assert "f" * 64 not in page
