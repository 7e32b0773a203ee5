"""`config/smtp.py` against a real SMTP server: what goes over the wire is what Django's SMTP
backend sends, the verdict is read only by `finish`, and every refusal raises what
`smtplib.SMTP.sendmail` raises, the connection left as it leaves it."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend

from bench.smtp_sink import offering_pipelining
from config import smtp
from tests.processes import free_port
from tests.smtp import serving


class Server:
    """An aiosmtpd handler that keeps each message's envelope and bytes, answers MAIL, RCPT
    and DATA with the replies queued for them ("250 OK" when none is), and can hold back its
    verdict on a message until the test lets it go."""

    def __init__(self, *, pipelining: bool) -> None:
        self.pipelining = pipelining
        self.port = free_port()
        self.received: list[tuple[str, list[str], bytes]] = []
        self.replies: dict[str, list[str]] = {"MAIL": [], "RCPT": [], "DATA": []}
        self.hold = threading.Event()
        self.hold.set()
        self.hold_mail = threading.Event()  # cleared: the reply to MAIL waits for it
        self.hold_mail.set()
        self.read = threading.Event()  # the server has the whole message

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        if self.pipelining:
            return offering_pipelining(session, hostname, responses)
        session.host_name = hostname
        return responses

    def _next(self, command: str) -> str | None:
        queued = self.replies[command]
        return queued.pop(0) if queued else None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        while not self.hold_mail.is_set():
            await _sleep()
        if (reply := self._next("MAIL")) is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if (reply := self._next("RCPT")) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.read.set()
        while not self.hold.is_set():  # the verdict waits; the event loop keeps running
            await _sleep()
        if (reply := self._next("DATA")) is not None:
            return reply
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.005)


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelining"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    handler = Server(pipelining=request.param)
    with serving(handler, handler.port):
        yield handler


@pytest.fixture
def wire(server: Server) -> Iterator[smtplib.SMTP]:
    connection = smtplib.SMTP("127.0.0.1", server.port, timeout=5)
    try:
        yield connection
    finally:
        connection.close()


def message(to: str = "Ana <ana@example.com>", body: str = "Hello.\n.\nA dot alone.\n") -> Any:
    headers = {"Date": "Mon, 07 Dec 2026 08:00:00 +0000", "Message-ID": "<1@duet.test>"}
    return EmailMessage("Your week", body, "Duet <digests@duet.test>", [to], headers=headers)


def test_the_envelope_and_bytes_are_those_djangos_backend_sends(server: Server) -> None:
    sent = message(body="Ünïcode, and a line with a lone dot:\n.\nthe end")
    with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as wire:
        smtp.send(wire, smtp.Envelope.of(sent))
    backend = EmailBackend(host="127.0.0.1", port=server.port, timeout=5)
    backend.send_messages([sent])

    ours, djangos = server.received
    assert ours == djangos
    assert ours[:2] == ("digests@duet.test", ["ana@example.com"])
    assert ours[2].endswith(b"\r\n.\r\nthe end\r\n")  # the lone dot quoted on the wire


def test_start_returns_before_the_verdict_and_finish_reads_it(
    server: Server, wire: smtplib.SMTP
) -> None:
    server.hold.clear()
    smtp.start(wire, smtp.Envelope.of(message()))  # returns though the server has not answered
    assert server.read.wait(5)
    assert server.received == []
    server.hold.set()
    smtp.finish(wire)
    assert len(server.received) == 1
    smtp.send(wire, smtp.Envelope.of(message(to="bo@example.com")))  # the connection goes on
    assert [rcpt for _, rcpt, _ in server.received] == [["ana@example.com"], ["bo@example.com"]]


def test_meanwhile_is_done_once_a_wait_with_nothing_to_do(
    server: Server, wire: smtplib.SMTP
) -> None:
    """Each reply awaited gets one call: MAIL, RCPT and DATA one by one (one write with
    PIPELINING), then the verdict. A ``meanwhile`` with nothing to do is not asked again."""
    waits: list[str] = []

    def nothing_to_do() -> bool:
        waits.append("verdict" if server.read.is_set() else "command")
        return False

    envelope = smtp.Envelope.of(message())
    server.hold.clear()  # the verdict waits until the last call is counted
    smtp.start(wire, envelope, meanwhile=nothing_to_do)
    assert server.read.wait(5)

    def then_let_the_verdict_go() -> bool:
        nothing_to_do()
        server.hold.set()
        return False

    smtp.finish(wire, meanwhile=then_let_the_verdict_go)

    commands = ["command"] if server.pipelining else ["command"] * 3
    assert waits == [*commands, "verdict"]
    assert [data for _, _, data in server.received] == [envelope.data]


def test_meanwhile_goes_on_until_the_reply_has_come(server: Server, wire: smtplib.SMTP) -> None:
    """A server slow to answer MAIL: the client keeps doing steps of other work until its
    reply is there, then reads it and goes on; the message arrives whole."""
    steps: list[str] = []

    def step() -> bool:
        steps.append("step")
        if len(steps) == 3:  # the server answers only now
            server.hold_mail.set()
        return True

    smtp.send(wire, smtp.Envelope.of(message()))  # without: nothing to do, as before
    server.hold_mail.clear()
    smtp.start(wire, smtp.Envelope.of(message(to="bo@example.com")), meanwhile=step)
    assert len(steps) >= 3
    smtp.finish(wire)
    assert [rcpt for _, rcpt, _ in server.received] == [["ana@example.com"], ["bo@example.com"]]


@pytest.mark.parametrize(
    ("command", "reply", "raised", "code"),
    [
        ("MAIL", "451 4.3.0 Try again later", smtplib.SMTPSenderRefused, 451),
        ("RCPT", "550 5.1.1 No such user", smtplib.SMTPRecipientsRefused, None),
        ("DATA", "452 4.3.1 Insufficient storage", smtplib.SMTPDataError, 452),
        ("DATA", "554 5.7.1 Rejected", smtplib.SMTPDataError, 554),
    ],
)
def test_a_refusal_raises_what_sendmail_raises_and_the_connection_goes_on(
    server: Server,
    wire: smtplib.SMTP,
    command: str,
    reply: str,
    raised: type[smtplib.SMTPException],
    code: int | None,
) -> None:
    server.replies[command].append(reply)
    with pytest.raises(raised) as refused:
        smtp.send(wire, smtp.Envelope.of(message()))
    if code is not None:
        assert isinstance(refused.value, smtplib.SMTPResponseException)
        assert refused.value.smtp_code == code
    else:
        assert isinstance(refused.value, smtplib.SMTPRecipientsRefused)
        recipient = "Ana <ana@example.com>"  # keyed as given, as sendmail does
        assert refused.value.recipients == {recipient: (550, b"5.1.1 No such user")}
    assert server.received == []
    smtp.send(wire, smtp.Envelope.of(message(to="bo@example.com")))  # reset for the next one
    assert [rcpt for _, rcpt, _ in server.received] == [["bo@example.com"]]


def test_with_pipelining_a_message_is_two_writes_not_four(
    server: Server, wire: smtplib.SMTP, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[bytes | str] = []
    send = wire.send

    def counted(data: bytes | str) -> None:
        writes.append(data)
        send(data)

    wire.ehlo()
    monkeypatch.setattr(wire, "send", counted)
    smtp.send(wire, smtp.Envelope.of(message()))
    assert len(server.received) == 1
    if server.pipelining:
        assert len(writes) == 2
        assert str(writes[0]).startswith("MAIL FROM:<digests@duet.test> size=")
        assert str(writes[0]).endswith("\r\nRCPT TO:<ana@example.com>\r\nDATA\r\n")
    else:
        assert len(writes) == 4  # MAIL, RCPT, DATA, the message


def test_a_421_closes_the_connection_as_sendmail_does(server: Server, wire: smtplib.SMTP) -> None:
    server.replies["DATA"].append("421 4.3.2 Shutting down")
    with pytest.raises(smtplib.SMTPDataError):
        smtp.send(wire, smtp.Envelope.of(message()))
    assert wire.sock is None


def test_a_message_that_cannot_be_built_raises_before_the_server_hears_of_it(
    server: Server,
) -> None:
    with pytest.raises(ValueError, match="newlines"):
        smtp.Envelope.of(EmailMessage("Your\nweek", "x", "digests@duet.test", ["a@example.com"]))
    assert server.received == []
