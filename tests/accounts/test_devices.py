"""`/me/devices/`: register or refresh by token, tokens write-only, at most 10, a token moves
between accounts, and devices forgotten at logout, password change or reset, theft and erasure."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.authentication import issue_tokens
from accounts.models import Device
from accounts.models import User
from tests.accounts.client import PASSWORD_NEW
from tests.accounts.client import error_attrs
from tests.conftest import World
from tests.factories import PASSWORD
from tests.factories import UserFactory
from tests.reminders.subscriptions import web_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/devices/"
FCM = "fcm-token:APA91bH" + "x" * 40


def _register(client: APIClient, **body: Any) -> Any:
    return client.post(URL, {"platform": "android", "token": FCM, **body}, format="json")


def test_a_device_registers_once_then_refreshes(client_for: Callable[[User], APIClient]) -> None:
    user = UserFactory.create()
    client = client_for(user)
    first = _register(client, name="Pixel")
    assert first.status_code == 201, first.json()
    assert set(first.json()) == {"id", "platform", "name", "created_at", "last_seen_at"}
    again = _register(client)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["name"] == "Pixel"  # a refresh without a name keeps it
    assert Device.objects.filter(user=user).count() == 1


def test_tokens_are_never_in_any_answer(client_for: Callable[[User], APIClient]) -> None:
    user = UserFactory.create()
    client = client_for(user)
    token = web_token()
    created = client.post(URL, {"platform": "web", "token": token}, format="json")
    assert created.status_code == 201, created.json()
    listed = client.get(URL)
    exported = client.get("/api/v1/me/export/")
    for answer in (created, listed, exported):
        text = answer.content.decode()
        assert token["endpoint"] not in text
        assert token["keys"]["auth"] not in text
    assert listed.json()["results"][0]["platform"] == "web"
    assert [d["id"] for d in exported.json()["devices"]] == [created.json()["id"]]


def test_a_web_subscription_with_new_keys_refreshes_the_same_device(
    client_for: Callable[[User], APIClient],
) -> None:
    client = client_for(UserFactory.create())
    first = client.post(URL, {"platform": "web", "token": web_token()}, format="json")
    second = client.post(URL, {"platform": "web", "token": web_token()}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert Device.objects.get().token == json.dumps(
        {
            "endpoint": web_token()["endpoint"],
            "keys": json.loads(Device.objects.get().token)["keys"],
        },
        sort_keys=True,
        separators=(",", ":"),
    )


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"platform": "pager", "token": FCM}, "platform"),
        ({"platform": "android", "token": "short"}, "token"),
        ({"platform": "android", "token": "has spaces in it 123"}, "token"),
        ({"platform": "android", "token": 12345678}, "token"),
        ({"platform": "android", "token": FCM, "name": "\u202eevil"}, "name"),
        ({"platform": "android", "token": FCM, "name": "a\x07b"}, "name"),
        ({"platform": "android", "token": FCM, "name": "   "}, "name"),
        ({"platform": "android", "token": FCM, "name": "\u200b"}, "name"),
        ({"platform": "android", "token": FCM, "name": "x" * 81}, "name"),
        ({"platform": "web", "token": FCM}, "token"),
        ({"platform": "web", "token": {"keys": {}}}, "token.endpoint"),
        (
            {
                "platform": "web",
                "token": {**web_token(), "endpoint": "http://fcm.googleapis.com/x"},
            },
            "token.endpoint",
        ),
        (
            {"platform": "web", "token": {**web_token(), "endpoint": "https://10.0.0.1/internal"}},
            "token.endpoint",
        ),
        (
            {"platform": "web", "token": {**web_token(), "keys": {"p256dh": "abc", "auth": "x"}}},
            "token.keys.p256dh",
        ),
        (
            {
                "platform": "web",
                "token": {
                    **web_token(),
                    "keys": {**web_token()["keys"], "auth": "AAAA"},
                },
            },
            "token.keys.auth",
        ),
    ],
)
def test_bad_devices_are_refused_naming_the_field(
    client_for: Callable[[User], APIClient], body: dict[str, Any], attr: str
) -> None:
    answer = client_for(UserFactory.create()).post(URL, body, format="json")
    assert answer.status_code == 400
    assert error_attrs(answer.json()) == {attr}
    assert not Device.objects.exists()


def test_at_most_ten_devices_the_least_recently_seen_dropped(
    client_for: Callable[[User], APIClient],
) -> None:
    user = UserFactory.create()
    client = client_for(user)
    start = dt.datetime.now(tz=dt.UTC)
    ids = []
    for n in range(11):
        with time_machine.travel(start + dt.timedelta(minutes=n), tick=False):
            ids.append(_register(client, token=f"{FCM}{n:02d}").json()["id"])
    remaining = set(Device.objects.filter(user=user).values_list("id", flat=True))
    assert len(remaining) == 10
    assert {str(i) for i in remaining} == set(ids[1:])


def test_a_token_moves_to_the_account_that_registers_it(
    client_for: Callable[[User], APIClient],
) -> None:
    old, new = UserFactory.create(), UserFactory.create()
    _register(client_for(old), name="Shared tablet")
    answer = _register(client_for(new))
    assert answer.status_code == 201
    device = Device.objects.get()
    assert device.user == new
    assert device.name == ""  # the old owner's name for it does not follow the token
    assert client_for(old).get(URL).json()["results"] == []


def test_another_users_device_answers_404_and_stays(
    client_for: Callable[[User | None], APIClient],
) -> None:
    owner, other = UserFactory.create(), UserFactory.create()
    device_id = _register(client_for(owner)).json()["id"]
    assert client_for(other).delete(f"{URL}{device_id}/").status_code == 404
    assert client_for(None).delete(f"{URL}{device_id}/").status_code == 401
    assert client_for(other).get(URL).json()["results"] == []
    assert Device.objects.filter(id=device_id).exists()
    assert client_for(owner).delete(f"{URL}{device_id}/").status_code == 204
    assert not Device.objects.exists()


@pytest.mark.parametrize("actor", ["outsider", "other_partner", "therapist", "other_therapist"])
def test_nobody_else_in_or_out_of_the_couple_reaches_a_partners_device(
    world: World, client_for: Callable[[User | None], APIClient], actor: str
) -> None:
    device_id = _register(client_for(world.partner), name="Phone").json()["id"]
    client = client_for(world.actor(actor))
    assert client.get(URL).json()["results"] == []
    assert client.delete(f"{URL}{device_id}/").status_code == 404
    # Registering the same token is the one way to take a device: it needs the token itself.
    assert Device.objects.get(id=device_id).user == world.partner


def test_devices_need_a_sign_in(api_client: APIClient) -> None:
    assert api_client.get(URL).status_code == 401
    assert _register(api_client).status_code == 401


def test_logout_with_the_device_token_forgets_that_device_only() -> None:
    user = UserFactory.create()
    pair = issue_tokens(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    _register(client)
    token = web_token()
    client.post(URL, {"platform": "web", "token": token}, format="json")
    answer = APIClient().post(
        "/api/v1/auth/logout/", {"refresh": pair["refresh"], "device_token": token}, format="json"
    )
    assert answer.status_code == 204
    assert list(Device.objects.values_list("platform", flat=True)) == ["android"]


def test_logout_with_half_a_subscription_is_a_400_and_signs_nothing_out() -> None:
    user = UserFactory.create()
    pair = issue_tokens(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    token = web_token()
    client.post(URL, {"platform": "web", "token": token}, format="json")
    half = {"endpoint": token["endpoint"]}  # no keys (found by make fuzz)

    answer = APIClient().post(
        "/api/v1/auth/logout/", {"refresh": pair["refresh"], "device_token": half}, format="json"
    )

    assert answer.status_code == 400
    assert error_attrs(answer.json()) == {"device_token"}
    assert Device.objects.filter(user=user).count() == 1
    refreshed = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200  # the refresh token was not revoked either


def test_logout_cannot_forget_someone_elses_device() -> None:
    owner, other = UserFactory.create(), UserFactory.create()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(owner)['access']}")
    _register(client)
    answer = APIClient().post(
        "/api/v1/auth/logout/",
        {"refresh": issue_tokens(other)["refresh"], "device_token": FCM},
        format="json",
    )
    assert answer.status_code == 204
    assert Device.objects.filter(user=owner).count() == 1


def test_password_change_forgets_every_device_but_the_calling_one(
    client_for: Callable[[User], APIClient],
) -> None:
    user = UserFactory.create()
    client = client_for(user)
    keep = _register(client, token=f"{FCM}keep").json()["id"]
    _register(client, token=f"{FCM}lost")
    answer = client.post(
        "/api/v1/auth/password/change/",
        {"old_password": PASSWORD, "new_password": PASSWORD_NEW, "device": keep},
        format="json",
    )
    assert answer.status_code == 204
    assert [str(i) for i in Device.objects.values_list("id", flat=True)] == [keep]


def test_password_reset_forgets_every_device(client_for: Callable[[User], APIClient]) -> None:
    user = UserFactory.create()
    _register(client_for(user))
    answer = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "new_password": PASSWORD_NEW,
        },
        format="json",
    )
    assert answer.status_code == 204
    assert not Device.objects.exists()


def test_password_reset_keeps_only_a_device_of_that_account(
    client_for: Callable[[User], APIClient],
) -> None:
    user, other = UserFactory.create(), UserFactory.create()
    theirs = _register(client_for(other), token=f"{FCM}other").json()["id"]
    _register(client_for(user))
    APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "new_password": PASSWORD_NEW,
            "device": theirs,
        },
        format="json",
    )
    assert [str(i) for i in Device.objects.values_list("id", flat=True)] == [theirs]


def test_refresh_theft_forgets_every_device(
    client_for: Callable[[User], APIClient], settings: Any
) -> None:
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    user = UserFactory.create()
    _register(client_for(user))
    refresh = issue_tokens(user)["refresh"]
    start = dt.datetime.now(tz=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert (
            APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 200
        )
    with time_machine.travel(start + dt.timedelta(seconds=5), tick=False):
        stolen = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh})
    assert stolen.status_code == 401
    assert not Device.objects.exists()


def test_erasure_forgets_every_device(client_for: Callable[[User], APIClient]) -> None:
    user = UserFactory.create()
    client = client_for(user)
    _register(client)
    assert client.delete("/api/v1/me/", {"password": PASSWORD}, format="json").status_code == 204
    assert not Device.objects.exists()


def test_meta_serves_the_web_push_public_key(api_client: APIClient, settings: Any) -> None:
    settings.WEBPUSH_VAPID_PUBLIC_KEY = "BPublicKey"
    assert api_client.get("/api/v1/meta/").json()["web_push_public_key"] == "BPublicKey"
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    assert api_client.get("/api/v1/meta/").json()["web_push_public_key"] is None


def test_the_admin_shows_devices_without_their_tokens() -> None:
    from django.contrib import admin
    from django.test import Client
    from push_notifications.models import GCMDevice
    from push_notifications.models import WebPushDevice

    staff = User.objects.create_superuser("staff@example.com", PASSWORD, display_name="Staff")
    owner = UserFactory.create()
    token = web_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(owner)['access']}")
    device_id = client.post(URL, {"platform": "web", "token": token}, format="json").json()["id"]
    browser = Client()
    browser.force_login(staff)
    pages = [
        browser.get("/admin/accounts/device/"),
        browser.get(f"/admin/accounts/device/{device_id}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert token["endpoint"] not in text
        assert token["keys"]["auth"] not in text
        assert Device.objects.get().token_digest not in text
    # The library's own device tables (raw tokens) are not in the admin at all.
    assert not admin.site.is_registered(GCMDevice)
    assert not admin.site.is_registered(WebPushDevice)
