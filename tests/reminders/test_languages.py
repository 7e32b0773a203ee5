"""Every text of reminders, pushes and account emails has its Spanish, and a Spanish-speaking
user's verification and reset emails are in Spanish."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import translation

from accounts import emails
from accounts.models import EmailVerification
from accounts.models import User
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [
    ROOT / "accounts" / "locale" / "es" / "LC_MESSAGES" / "django.po",
    ROOT / "engagement" / "locale" / "es" / "LC_MESSAGES" / "django.po",
]
_ENTRY = re.compile(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', re.MULTILINE)


def _unquote(block: str) -> str:
    return "".join(ast.literal_eval(line) for line in block.strip().split("\n"))


def entries(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8") + "\n"
    found = {}
    for msgid, msgstr in _ENTRY.findall(re.sub(r'^msgid ""\n(?=")', 'msgid ""\n', text)):
        found[_unquote(msgid)] = _unquote(msgstr)
    found.pop("", None)  # the header
    return found


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_message_has_a_spanish_translation(path: Path) -> None:
    catalogue = entries(path)
    assert catalogue, f"{path} holds no message"
    untranslated = [msgid for msgid, msgstr in catalogue.items() if not msgstr.strip()]
    assert untranslated == []
    assert "#, fuzzy" not in path.read_text(encoding="utf-8")
    # The compiled catalogue committed beside it says the same (no install step compiles it).
    with path.with_suffix(".mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    assert {msgid: translations.gettext(msgid) for msgid in catalogue} == catalogue


def test_the_catalogues_are_what_django_translates_with() -> None:
    with translation.override("es"):
        assert translation.gettext("Time for your Duet check-in") == (
            "Es hora de tu check-in en Duet"
        )
        assert translation.gettext("Reset your Duet password") == (
            "Restablece tu contraseña de Duet"
        )


@pytest.mark.django_db
def test_a_spanish_speakers_verification_and_reset_emails_are_in_spanish() -> None:
    user: User = UserFactory.create(language="es", display_name="Lucía")
    verification = EmailVerification.objects.create(
        user=user, email=user.email, purpose="register", expires_at=user.date_joined
    )
    for message in (
        emails.verification_message(verification, "token"),
        emails.password_reset_message(user),
    ):
        message.send()
    verify, reset = mail.outbox
    assert verify.subject == "Confirma tu correo en Duet"
    assert "Hola, Lucía:" in verify.body
    assert "Te damos la bienvenida a Duet" in verify.body
    assert reset.subject == "Restablece tu contraseña de Duet"
    assert "Con cariño," in reset.body
    for sent in (verify, reset):
        html = str(getattr(sent, "alternatives", [("", "")])[0][0])
        assert 'lang="es"' in html
        assert "Warmly" not in sent.body + html
        assert "link" not in sent.body.replace("https", "")
        assert sent.extra_headers["Content-Language"] == "es"


@pytest.mark.django_db
def test_an_english_speakers_emails_stay_in_english() -> None:
    user: User = UserFactory.create(display_name="Sam")
    emails.password_reset_message(user).send()
    [reset] = mail.outbox
    assert reset.subject == "Reset your Duet password"
    assert "Hi Sam," in reset.body
