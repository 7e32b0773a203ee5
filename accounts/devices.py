"""Push devices (SPEC section 2, Device): tokens checked, registered or refreshed, and forgotten
whenever the account is locked against whoever holds a phone (logout, password, theft, erasure).

A token is written once and never read back: the API, the export and the admin show a device's
id, platform, name and dates only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from accounts.models import Device
from accounts.models import User

MAX_DEVICES = 10
MAX_TOKEN_LENGTH = 4096
MAX_ENDPOINT_LENGTH = 2048
# FCM tokens hold letters, digits, `:`, `-` and `_`; APNs tokens are hexadecimal.
_NATIVE_TOKEN = re.compile(r"[A-Za-z0-9:_\-.]{8,4096}")
# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what a name shows.


class InvalidToken(ValueError):
    """The token is not one the platform's push service could have issued.

    ``field`` names the part at fault, relative to `token` (`endpoint`, `keys.p256dh`).
    """

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _b64url(value: Any, *, field: str, size: int) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise InvalidToken("Must be a base64url string.", field)
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("Must be a base64url string.", field) from None
    if len(raw) != size:
        raise InvalidToken(f"Must encode {size} bytes.", field)
    return value.rstrip("=")


def endpoint_allowed(endpoint: str) -> bool:
    """Only https endpoints of the push services in WEBPUSH_ENDPOINT_HOSTS (or their
    subdomains): the server POSTs there, so a client never picks an address of its own."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or parts.username or parts.password:
        return False
    return any(
        host == allowed or host.endswith("." + allowed)
        for allowed in (h.lower().strip() for h in settings.WEBPUSH_ENDPOINT_HOSTS)
        if allowed
    )


def web_subscription(value: Any) -> dict[str, Any]:
    """A Web Push subscription `{endpoint, keys: {p256dh, auth}}` as a browser's
    `PushSubscription.toJSON()` gives it: an uncompressed P-256 key and a 16-byte secret."""
    if not isinstance(value, dict):
        raise InvalidToken("A web device's token is its subscription {endpoint, keys}.")
    endpoint = value.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise InvalidToken("Must be the subscription's URL.", "endpoint")
    if not endpoint_allowed(endpoint):
        raise InvalidToken("Not the https address of a known push service.", "endpoint")
    keys = value.get("keys")
    if not isinstance(keys, dict):
        raise InvalidToken("Must hold p256dh and auth.", "keys")
    p256dh = _b64url(keys.get("p256dh"), field="keys.p256dh", size=65)
    if not base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4)).startswith(b"\x04"):
        raise InvalidToken("Must be an uncompressed P-256 public key.", "keys.p256dh")
    auth = _b64url(keys.get("auth"), field="keys.auth", size=16)
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def canonical_token(platform: str, value: Any) -> tuple[str, str]:
    """(token as stored, digest that identifies it), or InvalidToken.

    A Web Push subscription is identified by its endpoint: a browser that renews its keys
    refreshes the same device.
    """
    if platform == Device.Platform.WEB:
        subscription = web_subscription(value)
        stored = json.dumps(subscription, sort_keys=True, separators=(",", ":"))
        identity = f"web:{subscription['endpoint']}"
    else:
        if not isinstance(value, str) or not _NATIVE_TOKEN.fullmatch(value):
            raise InvalidToken("Must be the registration token the platform issued.")
        stored = value
        identity = f"native:{value}"
    return stored, hashlib.sha256(identity.encode()).hexdigest()


def token_digest(platform: str, value: Any) -> str | None:
    """The digest of a token, or None when it is no valid token (nothing can match it)."""
    try:
        return canonical_token(platform, value)[1]
    except InvalidToken:
        return None


def any_token_digest(value: Any) -> str | None:
    """The digest of a token given without its platform (logout): a subscription is web."""
    if isinstance(value, dict):
        return token_digest(Device.Platform.WEB, value)
    return token_digest(Device.Platform.ANDROID, value)


@transaction.atomic
def device_register(
    *, user: User, platform: str, token: Any, name: str | None
) -> tuple[Device, bool]:
    """Register a device, or refresh the one with this token: (device, created).

    A token registered by someone else moves to this user (the phone changed hands or
    accounts); that is a registration for them (created). At most MAX_DEVICES per user: the
    least recently seen beyond that are dropped.
    """
    stored, digest = canonical_token(platform, token)
    # Serialises one user's registrations, so two at once cannot both stay under the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    device = Device.objects.select_for_update().filter(token_digest=digest).first()
    created = device is None or device.user_id != user.pk
    if device is None:
        try:
            with transaction.atomic():
                device = Device.objects.create(
                    user=user,
                    platform=platform,
                    token=stored,
                    token_digest=digest,
                    name=name or "",
                    created_at=now,
                    last_seen_at=now,
                )
        except IntegrityError:
            # Registered at the same instant by another request: refresh that row instead.
            device = Device.objects.select_for_update().get(token_digest=digest)
    if device.user_id != user.pk or device.token != stored or device.last_seen_at != now:
        if device.user_id != user.pk:
            device.user = user
            device.created_at = now
            device.name = ""
        device.platform = platform
        device.token = stored
        if name is not None:
            device.name = name
        device.last_seen_at = now
        device.save()
    keep = list(
        Device.objects.filter(user=user)
        .order_by("-last_seen_at", "-created_at", "-id")
        .values_list("id", flat=True)[:MAX_DEVICES]
    )
    Device.objects.filter(user=user).exclude(id__in=keep).delete()
    return device, created


def devices_forget(*, user: User, except_device: UUID | None = None) -> int:
    """Delete the user's devices (a password change, reset or theft: whoever holds a phone the
    account was locked against stops receiving its pushes); the calling device may stay."""
    devices = Device.objects.filter(user=user)
    if except_device is not None:
        devices = devices.exclude(id=except_device)
    deleted, _ = devices.delete()
    return deleted


def device_forget_by_token(*, user_id: UUID, token: Any) -> int:
    """Logout given the device's token: that device of that user is deleted."""
    digest = any_token_digest(token)
    if digest is None:
        return 0
    deleted, _ = Device.objects.filter(user_id=user_id, token_digest=digest).delete()
    return deleted


def device_forget_at_logout(*, raw_refresh: str, token: Any) -> int:
    """Logout with the device's token: the device of the refresh token's owner is deleted.
    A refresh token that is not ours (forged, mangled) deletes nothing."""
    # Imported here: tokens imports the models this module's callers need first.
    from accounts.tokens import refresh_owner

    user_id = refresh_owner(raw_refresh)
    if user_id is None:
        return 0
    return device_forget_by_token(user_id=user_id, token=token)
