"""The one email builder's message: Django's own, byte for byte, but for a MIME boundary chosen
as the message is built, never one that a part's body contains."""

from __future__ import annotations

import re

import pytest
from django.core.mail import EmailMultiAlternatives

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
