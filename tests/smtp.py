"""A real SMTP server for tests: aiosmtpd on a free localhost port, collecting parsed messages."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlparse

from aiosmtpd.controller import Controller

from tests.processes import free_port

_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Received:
    """One message as the server received it: envelope recipients and the parsed message."""

    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "the message has no plain-text part"
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, "the message has no HTML part"
        return str(part.get_content())

    def links(self) -> list[str]:
        return _URL.findall(self.text)

    def link(self, path: str) -> str:
        """The one link in the text part whose path is `path` (e.g. '/verify')."""
        found = [url for url in self.links() if urlparse(url).path == path]
        assert len(found) == 1, f"expected one {path} link, found {found}"
        return found[0]

    def link_params(self, path: str) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlparse(self.link(path)).query).items()}


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts, in order."""

    def __init__(self) -> None:
        self.port = 0
        self._messages: list[Received] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._messages.append(Received(tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.recipients)]

    def only(self, address: str) -> Received:
        """The single message sent to `address`."""
        received = self.to(address)
        assert len(received) == 1, f"expected one message to {address}, got {len(received)}"
        return received[0]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


@contextmanager
def serving(handler: Any, port: int) -> Iterator[None]:
    """An aiosmtpd server with this handler on 127.0.0.1:``port`` for the block."""
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Run an SMTP server on 127.0.0.1 for the duration of the block."""
    mailbox = Mailbox()
    mailbox.port = free_port()
    with serving(mailbox, mailbox.port):
        yield mailbox


def send_mail_to(settings: Any, box: Mailbox) -> None:
    """Point Django's SMTP backend at `box` for the rest of the test (pytest-django settings)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = box.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
