"""Fixtures of the reminder tests: pushes written to a temporary folder (tests/pushes.py), a Web
Push service on 127.0.0.1 with VAPID keys, and real FCM and APNs credentials made for the
test."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.pushes import push_folder
from tests.reminders.push_service import PushService
from tests.reminders.push_service import push_service

__all__ = ["push_folder"]


@pytest.fixture
def web_push(settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch) -> Iterator[PushService]:
    """Web Push configured with fresh VAPID keys, endpoints allowed on 127.0.0.1, and the
    service's certificate trusted by the client (requests reads REQUESTS_CA_BUNDLE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    settings.WEBPUSH_VAPID_PRIVATE_KEY = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    settings.WEBPUSH_VAPID_PUBLIC_KEY = base64.urlsafe_b64encode(public).decode().rstrip("=")
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    with push_service() as service:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", service.ca_file)
        yield service


@pytest.fixture(autouse=True)
def _restore_push_settings() -> Iterator[None]:
    from push_notifications.settings import PUSH_NOTIFICATIONS_SETTINGS

    saved = dict(PUSH_NOTIFICATIONS_SETTINGS)
    yield
    PUSH_NOTIFICATIONS_SETTINGS.clear()
    PUSH_NOTIFICATIONS_SETTINGS.update(saved)


@pytest.fixture
def fcm_credentials(settings: SettingsWrapper, tmp_path: Path) -> Iterator[str]:
    """A service-account file as Firebase issues them (the key made here)."""
    import firebase_admin

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "fcm.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "duet-test",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "push@duet-test.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://127.0.0.1:9/token",
            }
        )
    )
    settings.FCM_CREDENTIALS_FILE = str(path)
    yield str(path)
    for app in list(firebase_admin._apps.values()):
        firebase_admin.delete_app(app)


@pytest.fixture
def apns_credentials(settings: SettingsWrapper, tmp_path: Path) -> str:
    """A token-based APNs key (.p8) made here, and the app's topic."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "AuthKey_TEST.p8"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings.APNS_AUTH_KEY_PATH = str(path)
    settings.APNS_AUTH_KEY_ID = "KEYID12345"
    settings.APNS_TEAM_ID = "TEAMID1234"
    settings.APNS_TOPIC = "app.duet.ios"
    settings.APNS_USE_SANDBOX = True
    return str(path)
