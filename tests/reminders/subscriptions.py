"""Web Push subscriptions as a browser makes them: a P-256 key pair and a 16-byte auth secret."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class BrowserSubscription:
    """What a browser keeps (private key, auth secret) and what it hands the server (token)."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def make(cls, endpoint: str) -> BrowserSubscription:
        return cls(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def token(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(self.public_key), "auth": b64url(self.auth)},
        }


def web_token(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc123") -> dict[str, Any]:
    return BrowserSubscription.make(endpoint).token
