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
