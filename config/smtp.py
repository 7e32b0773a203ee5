"""One message over an open SMTP connection in two steps, so that the sender prepares the next
message while the server takes this one (issue 20, docs/benchmarks.md).

`start` says MAIL, RCPT and DATA (in one write when the server offers PIPELINING, RFC 2920;
else each after the reply to the one before, as RFC 5321 requires), then writes the message and
its final dot, and returns without the server's verdict on the message. `finish` reads that
verdict. Between the two the client may do anything but talk on the connection; the server
meanwhile receives, checks and queues the message. With the server on another core (or
another host, a round trip away) that work was time the sender spent waiting.

Every reply is a wait, the verdict's and those to MAIL, RCPT and DATA alike. `start` and
`finish` take a ``meanwhile``: once a command is written, it is called for a step of other work,
again and again until the server's reply has come or it returns False (nothing left to do), and
only then is the reply read. A step is short (a template, say), so a reply waits at most one
step. ``meanwhile`` must not raise for its own errors (keep them for later): an exception from
it is taken as one from the connection.

Both raise what `smtplib.SMTP.sendmail` raises for the same replies (a refused sender,
refused recipients, a refused message, a connection gone), and leave the connection as it
does: reset after a refusal, closed after a 421. `send` is the two in one.
"""

from __future__ import annotations

import select
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import SafeMIMEMultipart
from django.core.mail.message import SafeMIMEText
from django.core.mail.message import sanitize_address

from config.emails import wire_bytes

CRLF = b"\r\n"


@dataclass(frozen=True)
class Envelope:
    """What goes over the wire for one message: the envelope's sender and recipients and the
    message's bytes, as Django's SMTP backend would send them."""

    sender: str
    recipients: list[str]
    data: bytes

    @classmethod
    def of(
        cls, message: EmailMessage, mime: SafeMIMEText | SafeMIMEMultipart | None = None
    ) -> Envelope:
        """``mime``: ``message.message()`` when already made. Raises ValueError or TypeError
        for a message that cannot be built (a header no server would take), before anything
        is said to the server."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        return cls(
            _sender(message.from_email, encoding),
            [sanitize_address(address, encoding) for address in message.recipients()],
            wire_bytes(message.message() if mime is None else mime),
        )


@lru_cache(maxsize=16)
def _sender(address: str, encoding: str) -> str:
    """`sanitize_address` of the sender, the same for every message (DEFAULT_FROM_EMAIL):
    parsing it costs some 50 microseconds a message."""
    return sanitize_address(address, encoding)


def _refused(smtp: smtplib.SMTP, code: int) -> None:
    """Leave the connection as `sendmail` does after a refusal: closed after a 421 (the server
    is closing it), else reset for the next message."""
    if code == 421:
        smtp.close()
    else:
        smtp._rset()  # type: ignore[attr-defined]  # what sendmail calls, not in the stubs


# A step of other work done while the server answers; False when there is none left.
Meanwhile = Callable[[], bool]


def nothing() -> bool:
    """The ``meanwhile`` of a caller with nothing else to do."""
    return False


def _while_answering(smtp: smtplib.SMTP, meanwhile: Meanwhile) -> None:
    """``meanwhile``'s steps until the server's reply has come or there is no step left."""
    if meanwhile is nothing or smtp.sock is None:
        return
    poller = select.poll()  # not select.select: a worker's sockets may be numbered past 1024
    poller.register(smtp.sock, select.POLLIN)
    while meanwhile() and not _answered(poller):
        pass


def _answered(poller: select.poll) -> bool:
    """Whether the server's reply is there to read, without waiting for it."""
    return bool(poller.poll(0))


def start(smtp: smtplib.SMTP, envelope: Envelope, *, meanwhile: Meanwhile = nothing) -> None:
    """Everything of the message up to its final dot; the verdict is left for `finish`.
    ``meanwhile``: steps done while the server answers each command (module docstring)."""
    smtp.ehlo_or_helo_if_needed()
    options = f" size={len(envelope.data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    if smtp.does_esmtp and smtp.has_extn("pipelining"):
        _ask_pipelined(smtp, envelope, options, meanwhile)
    else:
        _ask(smtp, envelope, options, meanwhile)
    quoted = smtplib._quote_periods(envelope.data)  # type: ignore[attr-defined]
    if not quoted.endswith(CRLF):
        quoted += CRLF
    smtp.send(quoted + b"." + CRLF)


def _ask(smtp: smtplib.SMTP, envelope: Envelope, options: str, meanwhile: Meanwhile) -> None:
    """MAIL, RCPT and DATA, each answered before the next is said; returns on the 354. The
    commands are `smtplib.SMTP.mail`'s and `rcpt`'s (``options``: SIZE at most, never
    SMTPUTF8), with ``meanwhile`` between each and its reply."""
    code, reply = _said(smtp, f"MAIL FROM:{smtplib.quoteaddr(envelope.sender)}{options}", meanwhile)
    _sender_taken(smtp, envelope, code, reply)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in envelope.recipients:
        code, reply = _said(smtp, f"RCPT TO:{smtplib.quoteaddr(recipient)}", meanwhile)
        _recipient_taken(smtp, refused, recipient, code, reply)
    _some_recipient_taken(smtp, envelope, refused)
    _data_taken(*_said(smtp, "DATA", meanwhile))


def _said(smtp: smtplib.SMTP, command: str, meanwhile: Meanwhile) -> tuple[int, bytes]:
    """The server's reply to ``command``, ``meanwhile`` done while it answers."""
    smtp.putcmd(command)  # raises ValueError for a line break in an address
    _while_answering(smtp, meanwhile)
    return smtp.getreply()


def _ask_pipelined(
    smtp: smtplib.SMTP, envelope: Envelope, options: str, meanwhile: Meanwhile
) -> None:
    """`_ask` in one write when the server offers PIPELINING (RFC 2920), as production relays
    commonly do: one round trip instead of three. The replies are read in order and
    judged as `_ask` judges them; a server closing the connection (421) is believed at once."""
    commands = [
        f"MAIL FROM:{smtplib.quoteaddr(envelope.sender)}{options}",
        *(f"RCPT TO:{smtplib.quoteaddr(recipient)}" for recipient in envelope.recipients),
        "DATA",
    ]
    if any("\r" in command or "\n" in command for command in commands):
        raise ValueError("command and arguments contain prohibited newline characters")
    smtp.send("".join(f"{command}\r\n" for command in commands))
    _while_answering(smtp, meanwhile)
    mail = smtp.getreply()
    if mail[0] == 421:
        _sender_taken(smtp, envelope, *mail)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in envelope.recipients:
        code, reply = smtp.getreply()
        if mail[0] == 250:
            _recipient_taken(smtp, refused, recipient, code, reply)
    code, reply = smtp.getreply()
    if code == 354 and (mail[0] != 250 or len(refused) == len(envelope.recipients)):
        # DATA accepted with nothing to deliver: RFC 2920 asks for the empty message's end.
        smtp.send(b"." + CRLF)
        smtp.getreply()
    _sender_taken(smtp, envelope, *mail)
    _some_recipient_taken(smtp, envelope, refused)
    _data_taken(code, reply)


def _sender_taken(smtp: smtplib.SMTP, envelope: Envelope, code: int, reply: bytes) -> None:
    if code != 250:
        _refused(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, envelope.sender)


def _recipient_taken(
    smtp: smtplib.SMTP,
    refused: dict[str, tuple[int, bytes]],
    recipient: str,
    code: int,
    reply: bytes,
) -> None:
    if code not in (250, 251):
        refused[recipient] = (code, reply)
    if code == 421:
        smtp.close()
        raise smtplib.SMTPRecipientsRefused(refused)


def _some_recipient_taken(
    smtp: smtplib.SMTP, envelope: Envelope, refused: dict[str, tuple[int, bytes]]
) -> None:
    if len(refused) == len(envelope.recipients):
        smtp._rset()  # type: ignore[attr-defined]
        raise smtplib.SMTPRecipientsRefused(refused)


def _data_taken(code: int, reply: bytes) -> None:
    if code != 354:
        # What sendmail does here: the transaction is left for the next MAIL to replace.
        raise smtplib.SMTPDataError(code, reply)


def finish(smtp: smtplib.SMTP, *, meanwhile: Meanwhile = nothing) -> None:
    """The server's verdict on the message `start` wrote: returns when it took it.
    ``meanwhile``: steps done while the server decides (module docstring)."""
    _while_answering(smtp, meanwhile)
    code, reply = smtp.getreply()
    if code != 250:
        _refused(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def send(smtp: smtplib.SMTP, envelope: Envelope) -> None:
    start(smtp, envelope)
    finish(smtp)
