"""Pushes to a user's devices through django-push-notifications' transports (SPEC section 6).

FCM (Android, and iOS when APNs is not configured) through firebase-admin, APNs through aioapns,
Web Push through pywebpush, each on only when configured (config/settings/base.py, "PUSH").
A platform whose transport is not configured (`make run`, tests) gets its pushes written as
JSON files under PUSH_FILE_PATH, one per push: platform, device id, title, body, never the
token. A token the service reports gone (Web Push 404/410, FCM UNREGISTERED, APNs Unregistered
or BadDeviceToken) deletes its device.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.devices import endpoint_allowed
from accounts.models import Device

logger = logging.getLogger(__name__)

SENT, GONE, FAILED = "sent", "gone", "failed"
# Reasons for which APNs says the token will never work again.
APNS_GONE = ("Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic")
# How long a push waits in the service for an offline device: a reminder is for today.
TIME_TO_LIVE_SECONDS = 12 * 60 * 60

_firebase_lock = threading.Lock()


@dataclass(frozen=True)
class Push:
    """What a lock screen shows: keep it neutral (no names, no figures)."""

    title: str
    body: str
    kind: str = "reminder"


def fcm_configured() -> bool:
    return bool(settings.FCM_CREDENTIALS_FILE)


def apns_configured() -> bool:
    return bool(
        settings.APNS_AUTH_KEY_PATH
        and settings.APNS_AUTH_KEY_ID
        and settings.APNS_TEAM_ID
        and settings.APNS_TOPIC
    )


def webpush_configured() -> bool:
    return bool(settings.WEBPUSH_VAPID_PRIVATE_KEY)


def _configure_library() -> None:
    """The library reads its settings from one dict, filled at import; refresh it from ours,
    so that what is configured now (settings overridden in tests too) is what it uses."""
    from push_notifications.settings import PUSH_NOTIFICATIONS_SETTINGS as library

    library.update(
        {
            "APNS_AUTH_KEY_PATH": settings.APNS_AUTH_KEY_PATH,
            "APNS_AUTH_KEY_ID": settings.APNS_AUTH_KEY_ID,
            "APNS_TEAM_ID": settings.APNS_TEAM_ID,
            "APNS_TOPIC": settings.APNS_TOPIC or None,
            "APNS_USE_SANDBOX": settings.APNS_USE_SANDBOX,
            "WP_PRIVATE_KEY": settings.WEBPUSH_VAPID_PRIVATE_KEY or None,
            "WP_CLAIMS": {"sub": settings.WEBPUSH_SUBJECT},
            "WP_ERROR_TIMEOUT": settings.PUSH_TIMEOUT_SECONDS,
        }
    )


def _transport(platform: str) -> str:
    if platform == Device.Platform.WEB:
        return "webpush" if webpush_configured() else "file"
    if platform == Device.Platform.IOS and apns_configured():
        return "apns"
    return "fcm" if fcm_configured() else "file"


# --- transports: each answers SENT, GONE or FAILED for one device ---


def _write_file(device: Device, push: Push) -> str:
    folder = Path(settings.PUSH_FILE_PATH)
    folder.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    record = {
        "platform": device.platform,
        "device": str(device.id),
        "kind": push.kind,
        "title": push.title,
        "body": push.body,
        "written_at": now.isoformat(),
    }
    name = f"{now:%Y%m%dT%H%M%S%f}-{device.id}-{uuid.uuid4().hex[:6]}.json"
    (folder / name).write_text(json.dumps(record, ensure_ascii=False, indent=2))
    return SENT


class _WebPushTarget:
    """The shape of device django-push-notifications' Web Push sender reads; its `save()` after
    a 404 or 410 (with `active` false) is how the library says the subscription is gone."""

    application_id = None
    browser = "CHROME"  # only used for endpoints that are not full https URLs (refused here)

    def __init__(self, device: Device) -> None:
        subscription = json.loads(device.token)
        self.registration_id = subscription["endpoint"]
        self.p256dh = subscription["keys"]["p256dh"]
        self.auth = subscription["keys"]["auth"]
        self.active = True

    def save(self) -> None:
        """Called by the library once it has marked the subscription inactive."""


def _send_webpush(device: Device, push: Push) -> str:
    from push_notifications.exceptions import WebPushError
    from push_notifications.webpush import webpush_send_message

    target = _WebPushTarget(device)
    if not endpoint_allowed(target.registration_id):
        # Checked at registration too; the list may have shrunk since.
        logger.warning("web push endpoint not allowed", extra={"device": str(device.id)})
        return FAILED
    payload = json.dumps({"title": push.title, "body": push.body, "kind": push.kind})
    try:
        result = webpush_send_message(target, payload, ttl=TIME_TO_LIVE_SECONDS)
    except WebPushError as exc:
        logger.warning("web push refused", extra={"device": str(device.id), "error": str(exc)})
        return FAILED
    except OSError as exc:  # the service could not be reached
        logger.warning("web push unreachable", extra={"device": str(device.id), "error": str(exc)})
        return FAILED
    if not target.active:
        return GONE
    return SENT if result.get("success") else FAILED


def _firebase_app() -> Any:
    import firebase_admin
    from firebase_admin import credentials

    with _firebase_lock:
        try:
            return firebase_admin.get_app()
        except ValueError:
            return firebase_admin.initialize_app(
                credentials.Certificate(settings.FCM_CREDENTIALS_FILE)
            )


def _send_fcm(device: Device, push: Push) -> str:
    from firebase_admin import exceptions as firebase_exceptions
    from firebase_admin import messaging
    from push_notifications.gcm import send_message

    _firebase_app()
    message = messaging.Message(
        notification=messaging.Notification(title=push.title, body=push.body),
        data={"kind": push.kind},
        android=messaging.AndroidConfig(ttl=TIME_TO_LIVE_SECONDS, priority="normal"),
        apns=messaging.APNSConfig(headers={"apns-priority": "5"}),
    )
    try:
        batch = send_message(device.token, message)
    except (firebase_exceptions.FirebaseError, ValueError, OSError) as exc:
        logger.warning("fcm push failed", extra={"device": str(device.id), "error": str(exc)})
        return FAILED
    if batch is None or not batch.responses:
        return FAILED
    response = batch.responses[0]
    if response.success:
        return SENT
    if isinstance(
        response.exception, messaging.UnregisteredError | messaging.SenderIdMismatchError
    ):
        return GONE
    logger.warning(
        "fcm push refused", extra={"device": str(device.id), "error": str(response.exception)}
    )
    return FAILED


def _send_apns(device: Device, push: Push) -> str:
    from push_notifications.apns_async import Alert
    from push_notifications.apns_async import apns_send_message
    from push_notifications.exceptions import APNSError
    from push_notifications.exceptions import APNSServerError

    try:
        apns_send_message(
            device.token,
            Alert(title=push.title, body=push.body),
            extra={"kind": push.kind},
            expiration=int(timezone.now().timestamp()) + TIME_TO_LIVE_SECONDS,
            priority=5,
        )
    except APNSServerError as exc:
        logger.warning("apns unreachable", extra={"device": str(device.id), "error": str(exc)})
        return FAILED
    except APNSError as exc:
        if any(reason in str(exc) for reason in APNS_GONE):
            return GONE
        logger.warning("apns push refused", extra={"device": str(device.id), "error": str(exc)})
        return FAILED
    return SENT


_SENDERS = {
    "file": _write_file,
    "webpush": _send_webpush,
    "fcm": _send_fcm,
    "apns": _send_apns,
}


def push_send(devices: Sequence[Device], push: Push) -> Counter[str]:
    """Send one push to each device; devices whose token is gone are deleted. Counts of
    SENT, GONE and FAILED."""
    counts: Counter[str] = Counter()
    gone = []
    if devices:
        _configure_library()
    for device in devices:
        outcome = _SENDERS[_transport(device.platform)](device, push)
        counts[outcome] += 1
        if outcome == GONE:
            gone.append(device.id)
    if gone:
        Device.objects.filter(id__in=gone).delete()
        logger.info("push tokens gone; devices removed", extra={"devices": len(gone)})
    return counts
