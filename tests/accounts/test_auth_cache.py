"""The authentication cache (accounts/auth_cache.py, issue 20): each change that matters to a
token, made through the API, a service or the admin, refuses or re-authorises the very next
request made with a token that was cached as good a moment before."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import auth_cache
from accounts.authentication import issue_tokens
from accounts.models import User
from accounts.tokens import tokens_revoke_all
from tests.accounts.client import PASSWORD_NEW
from tests.accounts.client import CommittingAPIClient
from tests.accounts.client import bearer
from tests.factories import PASSWORD
from tests.factories import UserFactory

# Every test on the in-process cache and on Redis, where the cache is read in the script that
# also counts the request's throttles (tests/accounts/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("backend")]

ME = "/api/v1/me/"
CHANGE = "/api/v1/auth/password/change/"
# Its view asks only IsAuthenticated: on Redis, the cache is read in the throttles' round trip
# (accounts/throttling.py `read_and_count`); /me/ picks its throttles per method, so it is not.
COUPLES = "/api/v1/couples/"


@pytest.fixture
def user() -> User:
    return UserFactory.create(email="ana@example.com", display_name="Ana")


def cached_client(user: User) -> CommittingAPIClient:
    """A client whose token has just been accepted, so that the user is in the cache (the
    tombstone their creation left, which would keep them out for two minutes, removed)."""
    cache.delete(auth_cache.key(user.pk))
    client = bearer(issue_tokens(user)["access"])
    assert client.get(ME).status_code == 200
    assert isinstance(cache.get(auth_cache.key(user.pk)), tuple)
    return client


def refused(client: Client) -> bool:
    """The very next request is refused, read either way."""
    return client.get(COUPLES).status_code == 401 and client.get(ME).status_code == 401


def test_a_cached_user_is_authenticated_without_reading_the_user_row(user: User) -> None:
    client = cached_client(user)

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/couples/").status_code == 200

    assert not [q for q in queries.captured_queries if '"accounts_user"' in q["sql"]]


def test_the_cache_holds_only_the_generation_and_the_therapist_flag(user: User) -> None:
    cached_client(user)

    assert cache.get(auth_cache.key(user.pk)) == (user.token_generation, False)


def test_a_cached_user_reads_the_rest_of_their_row_in_one_query(user: User) -> None:
    client = cached_client(user)

    with CaptureQueriesContext(connection) as queries:
        body = client.get(ME).json()

    assert body["display_name"] == "Ana"
    assert body["email"] == "ana@example.com"
    assert len([q for q in queries.captured_queries if '"accounts_user"' in q["sql"]]) == 1


def test_a_password_change_refuses_the_next_request(user: User) -> None:
    client = cached_client(user)
    other_device = cached_client(user)

    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password": PASSWORD_NEW})

    assert response.status_code == 204
    assert refused(other_device)
    assert refused(client)


def test_a_password_reset_refuses_the_next_request(user: User) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    client = cached_client(user)
    body = {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "new_password": PASSWORD_NEW,
    }

    assert CommittingAPIClient().post("/api/v1/auth/password/reset/confirm/", body).status_code
    assert User.objects.get(pk=user.pk).check_password(PASSWORD_NEW)
    assert refused(client)


def test_erasure_refuses_the_next_request(user: User) -> None:
    client = cached_client(user)
    other_device = cached_client(user)

    assert client.delete(ME, {"password": PASSWORD}).status_code == 204

    assert refused(other_device)


def test_deactivation_by_a_service_refuses_the_next_request(user: User) -> None:
    client = cached_client(user)

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert refused(client)


def test_deactivation_in_the_admin_refuses_the_next_request(
    user: User, staff_client: Client
) -> None:
    client = cached_client(user)
    page = staff_client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name in form.fields and not form.fields[name].disabled
    }
    data.update({"is_active": "", "groups": [], "user_permissions": []})
    for name, field in form.fields.items():
        if name not in data and field.required:
            data[name] = form.initial.get(name, "")
    for key, value in list(data.items()):
        if isinstance(value, bool):
            data[key] = "on" if value else ""

    response = staff_client.post(f"/admin/accounts/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not User.objects.get(pk=user.pk).is_active
    assert refused(client)


def test_logout_everywhere_refuses_the_next_request(user: User) -> None:
    client = cached_client(user)

    tokens_revoke_all(user=user)

    assert refused(client)


@pytest.mark.parametrize("via", ["admin", "create_therapist"])
def test_a_therapist_grant_is_seen_by_the_next_request(
    user: User, staff_client: Client, via: str
) -> None:
    client = cached_client(user)
    assert client.get(ME).json()["is_therapist"] is False

    if via == "admin":
        staff_client.post(
            "/admin/accounts/user/", {"action": "grant_therapist", "_selected_action": [user.pk]}
        )
        assert client.get(ME).json()["is_therapist"] is True
    else:
        from accounts.services import therapist_create_or_promote

        therapist_create_or_promote(email=user.email, password=PASSWORD_NEW, display_name="Ana")
        # A promotion replaces the password: every earlier token ends.
        assert refused(client)
        client = cached_client(User.objects.get(pk=user.pk))
        assert client.get(ME).json()["is_therapist"] is True


def test_a_cached_therapist_is_authenticated_as_a_therapist() -> None:
    therapist = UserFactory.create(is_therapist=True, token_generation=4)
    client = cached_client(therapist)

    assert client.get(ME).json()["is_therapist"] is True
    assert client.get(ME).status_code == 200


def test_a_therapist_withdrawal_is_seen_by_the_next_request(
    staff_client: Client,
) -> None:
    therapist = UserFactory.create(is_therapist=True)
    client = cached_client(therapist)

    staff_client.post(
        "/admin/accounts/user/",
        {"action": "withdraw_therapist", "_selected_action": [therapist.pk]},
    )

    assert client.get(ME).json()["is_therapist"] is False
    assert client.post("/api/v1/couples/", {"name": "Clinic"}).status_code in (201, 400, 403)
    # Tombstoned, so the next requests read the row until no request can hold the old one.
    assert cache.get(auth_cache.key(therapist.pk)) == "x"


def test_a_request_that_read_the_old_row_cannot_cache_it_after_the_change(user: User) -> None:
    """The race: a request reads the row, the change commits and invalidates, then the slow
    request fills the cache with what it read. The tombstone refuses that fill."""
    stale = User.objects.get(pk=user.pk)
    cache.delete(auth_cache.key(user.pk))

    tokens_revoke_all(user=user)
    cache.add(auth_cache.key(user.pk), (stale.token_generation, False), auth_cache.VALUE_SECONDS)

    assert refused(bearer(issue_tokens(stale)["access"]))


def test_a_user_who_may_not_sign_in_is_never_cached() -> None:
    unverified = UserFactory.create(email_verified_at=None)
    cache.delete(auth_cache.key(unverified.pk))

    assert refused(bearer(issue_tokens(unverified)["access"]))

    assert cache.get(auth_cache.key(unverified.pk)) is None


def test_the_cache_is_off_on_an_in_process_cache_unless_asked(settings: object, user: User) -> None:
    del settings.AUTH_USER_CACHE  # type: ignore[attr-defined]
    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }

    assert not auth_cache.enabled()
