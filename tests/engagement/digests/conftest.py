"""Fixtures of the digest tests: a real SMTP server that can refuse, and the apps' URLs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from bench.smtp_sink import offering_pipelining
from tests.engagement.digests.builders import FRONTEND_URL
from tests.engagement.digests.builders import SITE_URL
from tests.smtp import Mailbox
from tests.smtp import send_mail_to
from tests.smtp import smtp_server


@pytest.fixture(autouse=True)
def _urls(settings: SettingsWrapper) -> None:
    settings.FRONTEND_URL = FRONTEND_URL
    settings.SITE_URL = SITE_URL


class RefusingMailbox:
    """A real SMTP server's mailbox that refuses the next messages with the replies queued in
    ``refusals`` (say "451 4.3.0 Try again later"), as a busy server would, and hangs up on
    the next ``hang_ups`` messages once it has read them, neither keeping them nor replying
    (a server that crashed, a connection cut). With ``pipelining`` it offers PIPELINING
    (RFC 2920) to the connections opened after, as production relays do."""

    def __init__(self, box: Mailbox) -> None:
        self.box = box
        self.port = box.port
        self.refusals: list[str] = []
        self.hang_ups = 0
        accept = box.handle_DATA

        async def handle_data(server: Any, session: Any, envelope: Any) -> str:
            if self.hang_ups:
                self.hang_ups -= 1
                server.transport.abort()
                return "421 never written: the connection is gone"
            if self.refusals:
                return self.refusals.pop(0)
            return await accept(server, session, envelope)

        self.pipelining = False

        async def handle_ehlo(
            server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            if self.pipelining:
                return offering_pipelining(session, hostname, responses)
            session.host_name = hostname
            return responses

        # aiosmtpd looks its hooks up on the handler instance, per connection.
        box.handle_DATA = handle_data  # type: ignore[method-assign]
        box.handle_EHLO = handle_ehlo  # type: ignore[attr-defined]

    def to(self, address: str) -> list[Any]:
        return self.box.to(address)

    def only(self, address: str) -> Any:
        return self.box.only(address)

    @property
    def messages(self) -> list[Any]:
        return self.box.messages


@pytest.fixture
def mailbox(settings: SettingsWrapper) -> Iterator[RefusingMailbox]:
    """Digests go through Django's SMTP backend to a real server on localhost."""
    with smtp_server() as box:
        send_mail_to(settings, box)
        yield RefusingMailbox(box)
