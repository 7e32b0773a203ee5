"""Pushes through the library's transports: Web Push end to end against a push service on
127.0.0.1 (decrypted with the subscription's keys), FCM and APNs at their transport call, and
files under var/push/ when nothing is configured. A token reported gone deletes its device."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from rest_framework.test import APIClient

from accounts.authentication import issue_tokens
from accounts.models import Device
from accounts.models import User
from accounts.push import GONE
from accounts.push import SENT
from accounts.push import Push
from accounts.push import push_send
from tests.factories import UserFactory
from tests.pushes import written_pushes
from tests.reminders.push_service import PushService

pytestmark = pytest.mark.django_db
PUSH = Push(title="Duet", body="Time for your Duet check-in")
FCM_TOKEN = "fcm:APA91b" + "a" * 60
APNS_TOKEN = "ab" * 32


def _register(user: User, platform: str, token: Any) -> Device:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    answer = client.post(
        "/api/v1/me/devices/", {"platform": platform, "token": token}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    return Device.objects.get(id=answer.json()["id"])


def test_with_nothing_configured_pushes_are_files_without_the_token(push_folder: Path) -> None:
    device = _register(UserFactory.create(), "android", FCM_TOKEN)
    assert push_send([device], PUSH) == {SENT: 1}
    [record] = written_pushes(push_folder)
    assert record["platform"] == "android"
    assert record["device"] == str(device.id)
    assert (record["title"], record["body"]) == ("Duet", "Time for your Duet check-in")
    assert "APA91b" not in "".join(p.read_text() for p in push_folder.iterdir())


def test_web_push_reaches_the_browser_encrypted_and_a_gone_subscription_removes_the_device(
    web_push: PushService,
) -> None:
    subscription = web_push.subscription("alex")
    device = _register(UserFactory.create(), "web", subscription.token)

    assert push_send([device], PUSH) == {SENT: 1}
    [received] = web_push.received
    assert received.path == "/push/alex"
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["authorization"].startswith("vapid t=")
    assert b"check-in" not in received.body  # on the wire it is ciphertext
    payload = json.loads(received.decrypt(subscription))
    assert payload == {"title": "Duet", "body": "Time for your Duet check-in", "kind": "reminder"}

    web_push.gone_once.add("/push/alex")
    assert push_send([device], PUSH) == {GONE: 1}
    assert not Device.objects.filter(id=device.id).exists()


def test_fcm_sends_through_firebase_and_unregistered_removes_the_device(
    fcm_credentials: str,
) -> None:
    from firebase_admin import messaging

    device = _register(UserFactory.create(), "android", FCM_TOKEN)
    sent: list[messaging.Message] = []

    def send_each(messages: list[messaging.Message], **kwargs: Any) -> messaging.BatchResponse:
        sent.extend(messages)
        return messaging.BatchResponse(
            [messaging.SendResponse({"name": "projects/duet-test/messages/1"}, None)]
        )

    with mock.patch("firebase_admin.messaging.send_each", side_effect=send_each):
        assert push_send([device], PUSH) == {SENT: 1}
    [message] = sent
    assert message.token == FCM_TOKEN
    assert (message.notification.title, message.notification.body) == (PUSH.title, PUSH.body)

    def unregistered(messages: list[messaging.Message], **kwargs: Any) -> messaging.BatchResponse:
        error = messaging.UnregisteredError("Requested entity was not found.")
        return messaging.BatchResponse([messaging.SendResponse(None, error)])

    with mock.patch("firebase_admin.messaging.send_each", side_effect=unregistered):
        assert push_send([device], PUSH) == {GONE: 1}
    assert not Device.objects.exists()


def test_apns_sends_the_alert_and_bad_device_token_removes_the_device(
    apns_credentials: str,
) -> None:
    from aioapns.common import NotificationResult

    device = _register(UserFactory.create(), "ios", APNS_TOKEN)
    requests: list[Any] = []

    async def accepted(self: Any, request: Any) -> NotificationResult:
        requests.append(request)
        return NotificationResult(request.notification_id, "200")

    with mock.patch("aioapns.APNs.send_notification", accepted):
        assert push_send([device], PUSH) == {SENT: 1}
    [request] = requests
    assert request.device_token == APNS_TOKEN
    assert request.message["aps"]["alert"] == {"title": PUSH.title, "body": PUSH.body}

    async def bad_token(self: Any, request: Any) -> NotificationResult:
        return NotificationResult(request.notification_id, "400", description="BadDeviceToken")

    with mock.patch("aioapns.APNs.send_notification", bad_token):
        assert push_send([device], PUSH) == {GONE: 1}
    assert not Device.objects.exists()
