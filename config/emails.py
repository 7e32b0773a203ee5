"""The one email builder: every message Duet sends is rendered and assembled here.

A message is ``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html`` (or a subject
given as text), rendered in the recipient's language when one is given, with a subject that is
always one line (no header injection, whatever a template or a name contains), a plain-text
body and an HTML alternative, one recipient per message (no one sees another's address), and
the headers the caller asks for: a Message-ID known before sending, one-click unsubscribe
(RFC 8058), ``Content-Language``. Links into the apps come from ``FRONTEND_URL`` through
``frontend_url``. Used by accounts (verification, reset, account notes) and engagement
(invitations, digests, reminders); it imports neither.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from email.policy import Compat32
from email.utils import parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.core.mail.message import SafeMIMEText
from django.template.loader import render_to_string
from django.utils import translation


def frontend_url(path: str = "/", **params: str) -> str:
    """A link into the apps (SPEC section 3: `/verify?token=`, `/reset?uid=&token=`, ...)."""
    query = f"?{urlencode(params)}" if params else ""
    return f"{settings.FRONTEND_URL}{path}{query}"


def message_id_domain() -> str:
    """Message-IDs name the sending domain, that of DEFAULT_FROM_EMAIL."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "duet.local"


def one_line(text: str) -> str:
    """A subject is one line: every run of whitespace, newlines included, becomes one space."""
    return " ".join(text.split())


# The standard library's boundaries: fifteen '=', a random number of a 64-bit int's width, '=='.
_BOUNDARY_DIGITS = len(str(sys.maxsize))


def _boundary(texts: list[str]) -> str:
    """A random MIME boundary found in none of ``texts`` (what the parts will write)."""
    while True:
        boundary = f"{'=' * 15}{secrets.randbelow(sys.maxsize):0{_BOUNDARY_DIGITS}d}=="
        if not any(f"--{boundary}" in text for text in texts):
            return boundary


class _ShortHeaders(Compat32):
    """The standard library's compat32 policy, which Django's messages use, writing a header
    that fits on one line as it is instead of through `email.header.Header` (a few tens of
    microseconds a header, some sixteen headers a digest): a printable ASCII value with no
    run of spaces and no space at either end, short enough not to be folded, is written
    exactly so by compat32 too. Any other header goes through compat32."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
            and "  " not in value
            and value == value.strip()
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


_SHORT_HEADERS = _ShortHeaders()
CRLF = b"\r\n"
_NEWLINES = re.compile(r"\r\n|\r|\n")  # what the standard library's generator splits lines on


@lru_cache(maxsize=8)
def _on_the_wire(policy: Compat32) -> Compat32:
    return policy.clone(linesep="\r\n")


def wire_bytes(msg: SafeMIMEText | SafeMIMEMultipart) -> bytes:
    """``msg.as_bytes(linesep="\\r\\n")``, what goes to the SMTP server, written directly for
    the shapes Duet's messages take: text parts alone or in one multipart, under a compat32
    policy. The standard library's generator writes each line of a body with two calls and
    each part through a generator of its own: a tenth of a digest's CPU (issue 20). The same
    bytes, the same way: each header through the policy's own `fold_binary`, each body's
    line breaks made CRLF, the boundary lines as the generator writes them
    (tests/config/test_emails.py compares the two on random messages). Any other message goes
    through the generator."""
    policy = msg.policy
    parts = msg.get_payload() if msg.is_multipart() else [msg]
    texts = [part for part in parts if isinstance(part, Message) and _plain_text(part)]
    if (
        not isinstance(policy, Compat32)
        or policy.cte_type == "7bit"
        or msg.preamble is not None
        or msg.epilogue is not None
        or (msg.is_multipart() and not msg.get_boundary())
        or len(texts) != len(parts)
    ):
        return msg.as_bytes(linesep="\r\n")
    wire = _on_the_wire(policy)

    def headers(part: Message) -> bytes:
        return b"".join(wire.fold_binary(name, value) for name, value in part.raw_items()) + CRLF

    def written(part: Message) -> bytes:
        body: str = part._payload  # type: ignore[attr-defined]
        # A template's text has only \n: replacing them is ten times the regular expression's
        # speed, and the same.
        body = _NEWLINES.sub("\r\n", body) if "\r" in body else body.replace("\n", "\r\n")
        return headers(part) + body.encode("ascii", "surrogateescape")

    if not msg.is_multipart():
        return written(msg)
    boundary = str(msg.get_boundary()).encode("ascii")
    return b"".join(
        (
            headers(msg),
            b"--" + boundary + CRLF,
            (CRLF + b"--" + boundary + CRLF).join(written(part) for part in texts),
            CRLF + b"--" + boundary + b"--" + CRLF,
        )
    )


def _plain_text(part: Message) -> bool:
    """A part the generator writes as its headers and its body's lines and nothing more."""
    return (
        not part.is_multipart()
        and part.get_content_maintype() == "text"
        and isinstance(part._payload, str)  # type: ignore[attr-defined]
    )


class AlternativesMessage(EmailMultiAlternatives):
    """Django's message, its MIME boundary chosen as it is built. Left to the standard
    library's generator, the boundary costs a regular expression compiled for every message
    and searched through the whole serialised text: a tenth of a digest's CPU (issue 20,
    docs/benchmarks.md). The same form of boundary, checked against the parts' bodies; the
    message is otherwise Django's, byte for byte."""

    def message(self) -> SafeMIMEText | SafeMIMEMultipart:
        msg = super().message()
        parts = msg.get_payload() if msg.is_multipart() else []
        if parts and msg.get_boundary() is None and not any(p.is_multipart() for p in parts):
            msg.set_boundary(_boundary([str(part.get_payload()) for part in parts]))
        if type(msg.policy) is Compat32:
            msg.policy = _SHORT_HEADERS  # the parts are written with the message's policy
        return msg


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _language(language: str | None) -> contextlib.AbstractContextManager[None]:
    """The recipient's language; None keeps whatever language is active."""
    if language is None:
        return contextlib.nullcontext()
    return translation.override(language)


def render(
    name: str,
    context: Mapping[str, Any],
    *,
    language: str | None = None,
    subject: str | None = None,
) -> Rendered:
    """The three parts of ``emails/<name>-*``; the HTML autoescapes every name. ``subject``,
    when given, replaces the subject template. The bodies see the subject as ``subject``."""
    with _language(language):
        line = one_line(
            subject
            if subject is not None
            else render_to_string(f"emails/{name}-subject.txt", dict(context))
        )
        body_context = {**context, "subject": line}
        return Rendered(
            subject=line,
            text=render_to_string(f"emails/{name}-body.txt", body_context),
            html=render_to_string(f"emails/{name}-body.html", body_context),
        )


def message(
    rendered: Rendered,
    *,
    to: str,
    language: str | None = None,
    message_id: str | None = None,
    unsubscribe_url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMultiAlternatives:
    """One message to one recipient, from DEFAULT_FROM_EMAIL, with both parts."""
    all_headers: dict[str, str] = {}
    if message_id is not None:
        all_headers["Message-ID"] = message_id
    if unsubscribe_url is not None:
        all_headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        all_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    all_headers.update(headers or {})
    if language is not None:
        all_headers["Content-Language"] = language
    email = AlternativesMessage(
        one_line(rendered.subject),
        rendered.text,
        settings.DEFAULT_FROM_EMAIL,
        [to],
        headers=all_headers,
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def build(
    name: str,
    *,
    to: str,
    context: Mapping[str, Any],
    language: str | None = None,
    subject: str | None = None,
    message_id: str | None = None,
    unsubscribe_url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMultiAlternatives:
    """``render`` then ``message``: the whole email in one call."""
    return message(
        render(name, context, language=language, subject=subject),
        to=to,
        language=language,
        message_id=message_id,
        unsubscribe_url=unsubscribe_url,
        headers=headers,
    )
