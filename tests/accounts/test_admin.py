"""The basic user admin: staff can list and open users; the password hash is not on the page."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_staff_see_users_with_their_role_and_verification(staff_client: Client) -> None:
    UserFactory.create(email="listed@example.com", display_name="Listed", is_therapist=True)

    response = staff_client.get("/admin/accounts/user/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "listed@example.com" in page
    assert "verified" in page.lower()


def test_the_user_page_never_shows_the_password_hash(staff_client: Client) -> None:
    user = UserFactory.create()

    response = staff_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert user.password not in response.content.decode()
