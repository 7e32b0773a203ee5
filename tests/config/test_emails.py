"""The one email builder's message: Django's own, byte for byte, but for a MIME boundary chosen
as the message is built, never one that a part's body contains."""

from __future__ import annotations

import contextlib
import re
from unittest import mock

import pytest
from django.core.mail import EmailMessage
from django.core.mail import EmailMultiAlternatives
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from config import emails

BOUNDARY = re.compile(rb"={15}[0-9]+==")
RENDERED = emails.Rendered(
    subject="Your week", text="Hello Ana,\n\nYour week.\n", html="<p>Hello Ana,</p>\n"
)


def serialised(message: EmailMultiAlternatives) -> bytes:
    raw = message.message().as_bytes(linesep="\r\n")
    return BOUNDARY.sub(b"-", re.sub(rb"(?m)^(Date|Message-ID): .*$", rb"\1: -", raw))


def test_message_is_djangos_but_for_its_boundary() -> None:
    ours = emails.message(RENDERED, to="ana@example.com", headers={"Auto-Submitted": "no"})
    django = EmailMultiAlternatives(
        RENDERED.subject,
        RENDERED.text,
        ours.from_email,
        ["ana@example.com"],
        headers={"Auto-Submitted": "no"},
    )
    django.attach_alternative(RENDERED.html, "text/html")

    assert serialised(ours) == serialised(django)
    assert BOUNDARY.fullmatch(ours.message().get_boundary().encode())


def test_boundary_is_never_one_a_body_contains(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([7, 8])
    monkeypatch.setattr(emails.secrets, "randbelow", lambda _: next(draws))
    taken = f"--{'=' * 15}{7:019d}=="
    rendered = emails.Rendered(subject="s", text=f"a line\n{taken}\n", html="<p>h</p>")

    boundary = emails.message(rendered, to="ana@example.com").message().get_boundary()

    assert boundary == f"{'=' * 15}{8:019d}=="


@pytest.mark.parametrize(
    "subject",
    [
        "Your week",
        "Tu semana con Quillon: 5 días con check-in",  # not ASCII: an encoded word
        "A subject long enough that the standard library folds it onto a second line, as it must",
        "Two  spaces, and one at the end ",
        "=?utf-8?q?looks_encoded?=",
    ],
)
@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_headers_are_written_as_djangos_whatever_their_shape(subject: str, linesep: str) -> None:
    """One-line headers skip `email.header.Header` (issue 20); every header is still written
    byte for byte as Django's message writes it."""
    headers = {"List-Unsubscribe": "<https://example.com/u/" + "x" * 80 + ">", "X-Note": subject}
    ours = emails.message(
        emails.Rendered(subject=subject, text=RENDERED.text, html=RENDERED.html),
        to="ana@example.com",
        headers=headers,
    )
    django = EmailMultiAlternatives(
        ours.subject, RENDERED.text, ours.from_email, ["ana@example.com"], headers=headers
    )
    django.attach_alternative(RENDERED.html, "text/html")

    def written(message: EmailMultiAlternatives) -> bytes:
        raw = message.message().as_bytes(linesep=linesep)
        return BOUNDARY.sub(b"-", re.sub(rb"(?m)^(Date|Message-ID): .*$", rb"\1: -", raw))

    assert written(ours) == written(django)
    assert type(ours.message().policy) is not type(django.message().policy)


# --- what goes on the wire ------------------------------------------------------------------

# Bodies as templates and names make them: line breaks of every kind, lone dots, "From " at a
# line's start, lines over 998 bytes (Django then quotes them printable), accents, emoji.
_PIECES = st.sampled_from(
    ["\n", "\r\n", "\r", ".", "From me", "  ", "día ñ", "🙂", "=", "x" * 1000, "--", "<b>&</b>"]
)
_BODIES = st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=st.text(max_size=120).map(emails.one_line),
    text=_BODIES,
    html=st.one_of(st.none(), _BODIES),
    name=st.sampled_from(["", "Ana", "Zoë Ñandú", 'O"Brien, Jr.']),
    ours=st.booleans(),
)
def test_the_wire_bytes_are_the_generators_for_any_message_duet_writes(
    subject: str, text: str, html: str | None, name: str, ours: bool
) -> None:
    """`wire_bytes` writes what `as_bytes(linesep="\\r\\n")` writes, for Duet's messages (ours:
    the one builder's policy and boundary) and Django's own, with one part or two."""
    to = f"{name} <ana@example.com>" if name else "ana@example.com"
    headers = {"Date": "Mon, 07 Dec 2026 08:00:00 -0000", "Message-ID": "<1@duet.test>"}
    if ours:
        rendered = emails.Rendered(subject=subject, text=text, html=html or "")
        message: EmailMessage = emails.message(rendered, to=to, headers=headers)
    elif html is None:
        message = EmailMessage(subject, text, "Duet <d@duet.test>", [to], headers=headers)
    else:
        message = EmailMultiAlternatives(subject, text, "Duet <d@duet.test>", [to], headers=headers)
        message.attach_alternative(html, "text/html")
    built = message.message()
    # Django's own multipart has no boundary until the generator picks one: it writes it.
    direct = ours or html is None
    generator = mock.patch.object(built, "as_bytes", side_effect=AssertionError("generator"))
    with generator if direct else contextlib.nullcontext():
        written = emails.wire_bytes(built)

    assert written == built.as_bytes(linesep="\r\n")


def test_a_message_of_another_shape_goes_through_the_generator() -> None:
    """An attachment (a multipart inside the multipart): the generator writes it."""
    message = EmailMultiAlternatives("s", "text", "d@duet.test", ["ana@example.com"])
    message.attach_alternative("<p>html</p>", "text/html")
    message.attach("notes.txt", "some notes", "text/plain")
    built = message.message()

    assert built.get_payload()[0].is_multipart()
    assert emails.wire_bytes(built) == built.as_bytes(linesep="\r\n")
