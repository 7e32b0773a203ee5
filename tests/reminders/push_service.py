"""A Web Push service on 127.0.0.1 for the tests: HTTPS with a certificate made here, it keeps
each encrypted POST and answers 201, or 410 ("gone") when told to."""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path

import http_ece
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.reminders.subscriptions import BrowserSubscription


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def decrypt(self, subscription: BrowserSubscription) -> bytes:
        """What the browser would read: aes128gcm with the subscription's keys (RFC 8291)."""
        return bytes(
            http_ece.decrypt(
                self.body,
                private_key=subscription.private_key,
                auth_secret=subscription.auth,
                version="aes128gcm",
            )
        )


@dataclass
class PushService:
    base_url: str
    ca_file: str
    received: list[Received] = field(default_factory=list)
    gone_once: set[str] = field(default_factory=set)  # paths answered 410 once

    def subscription(self, name: str) -> BrowserSubscription:
        return BrowserSubscription.make(f"{self.base_url}/push/{name}")


def _certificate(folder: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@contextmanager
def push_service() -> Iterator[PushService]:
    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = _certificate(Path(tmp))
        state: dict[str, PushService] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                service = state["service"]
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                service.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = 201
                if self.path in service.gone_once:
                    service.gone_once.discard(self.path)
                    status = 410
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        service = PushService(f"https://127.0.0.1:{server.server_address[1]}", cert_file)
        state["service"] = service
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield service
        finally:
            server.shutdown()
            server.server_close()
