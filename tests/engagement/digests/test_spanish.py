"""Emails are in the recipient's language (SPEC 7): a Spanish-speaking partner's, therapist's
and minimal digest, the invitation emails and the account notes render no untranslated English
sentence. Each email is rendered twice, in English and in Spanish, with the same data; no
sentence of the English rendering (three words or more once names, numbers, dates and links
are taken out) may appear in the Spanish one."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import polib
import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import emails as account_emails
from accounts.models import User
from engagement.invitations import emails as invitation_emails
from engagement.models import DigestDelivery
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import WeeklyReport
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import figures
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.builders import send_digests_at
from tests.engagement.digests.builders import store_report
from tests.engagement.digests.conftest import RefusingMailbox
from tests.engagement.digests.test_therapist_digest import couple_of
from tests.engagement.digests.test_therapist_digest import flag
from tests.engagement.digests.test_therapist_digest import store_week
from tests.factories import CommitmentFactory
from tests.factories import TherapistFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation
from tests.reminders.test_languages import CATALOGUES

pytestmark = pytest.mark.django_db

URL = re.compile(r"\S+://\S+|\S+@\S+")
NUMBER = re.compile(r"[\d#.:,()\-\u2013]*\d[\d#.:,()\-\u2013]*")
# Dates and times are left to Django's localised names; a name of a month or weekday is no
# sentence.
CALENDAR = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun|UTC)\b"
)


def plain(part: str) -> str:
    """The words of a part: an HTML one without its tags and entities."""
    if "<html" in part:
        part = re.sub(r"<(style|title)[^>]*>.*?</\1>", "\n", part, flags=re.DOTALL)
        part = html.unescape(re.sub(r"<[^>]+>", "\n", part))
    return part


def english_sentences(english: str, names: Iterable[str]) -> set[str]:
    """Every run of three words or more of the English text between names, numbers, dates and
    links."""
    pattern = "|".join(
        [URL.pattern, CALENDAR.pattern, NUMBER.pattern]
        + [re.escape(name) for name in sorted(names, key=len, reverse=True) if name]
    )
    found = set()
    for line in plain(english).splitlines():
        for fragment in re.split(pattern, line):
            words = re.findall(r"[A-Za-z'-]+", fragment)
            if len([w for w in words if w != "Duet"]) >= 3:
                found.add(" ".join(fragment.split()).strip(" ,.;:()[]-"))
    return found


def assert_no_english(english: str, spanish: str, names: Iterable[str]) -> None:
    sentences = english_sentences(english, names)
    assert sentences, "the English rendering holds no sentence: the test would prove nothing"
    flat = " ".join(plain(spanish).split())
    assert [s for s in sorted(sentences) if s in flat] == []


def parts(message: Any) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a message from the SMTP mailbox or Django's outbox."""
    if isinstance(message, EmailMultiAlternatives):
        return str(message.subject), str(message.body), str(message.alternatives[0][0])
    return message.subject, message.text, message.html


def assert_in_spanish(english: Any, spanish: Any, names: Iterable[str]) -> None:
    names = list(names)
    for en, es in zip(parts(english), parts(spanish), strict=True):
        assert_no_english(en, es, names)
    assert '<html lang="es">' in parts(spanish)[2]


def send_twice(mailbox: RefusingMailbox, user: User) -> tuple[Any, Any]:
    """The same digest sent in English, then (the ledger cleared) in Spanish."""
    send_digests_at()
    DigestDelivery.objects.all().delete()
    User.objects.filter(pk=user.pk).update(language="es")
    send_digests_at()
    english, spanish = mailbox.to(user.email)
    return english, spanish


# --- digests ------------------------------------------------------------------------------


def test_a_spanish_speaking_partners_digest_is_in_spanish(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple()
    couple.partners_see_balance = True
    couple.save()
    Membership.objects.filter(couple=couple, role="partner").update(shares_balance=True)
    TherapySessionFactory.create(
        couple=couple, kind="joint", starts_at=local(NEXT_MONDAY, 18) + dt.timedelta(days=2)
    )
    CommitmentFactory.create(
        couple=couple, owner=a, visibility="couple", title="Walk together", due_on=NEXT_MONDAY
    )
    User.objects.filter(pk=b.pk).update(weekly_digest=False)

    english, spanish = send_twice(mailbox, a)

    assert english.subject == "Your Duet week in review"
    assert spanish.subject == "Tu semana en Duet"
    assert "Equilibrio" not in spanish.text  # the partner's own words, not the therapist's
    assert "cumplidos" in spanish.text
    assert "cumplidos" in spanish.html
    assert "Sesión conjunta" in spanish.text
    assert "febrero" in spanish.text  # the week and the days in Spanish
    assert_in_spanish(english, spanish, [a.display_name, b.display_name, str(couple)])


def test_a_quiet_week_is_in_spanish_too(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple(therapist=False)
    store_report(couple, WEEK - dt.timedelta(weeks=1), [figures(a), figures(b)])
    WeeklyReport.objects.filter(couple=couple, week_start=WEEK).update(
        partner_views=[{"partner": str(a.id)}, {"partner": str(b.id)}]
    )
    User.objects.filter(pk=b.pk).update(weekly_digest=False)

    english, spanish = send_twice(mailbox, a)

    assert "quiet one" in english.text
    assert "tranquila" in spanish.text
    assert_in_spanish(english, spanish, [a.display_name, b.display_name, str(couple)])


def test_a_spanish_speaking_therapists_digest_is_in_spanish(mailbox: RefusingMailbox) -> None:
    therapist = TherapistFactory.create(display_name="Dr. Rivera")
    calm, a, b = couple_of(therapist, "Calm couple")
    store_week(calm, a, b, balance="balanced", gap=5.0)
    held, c, d = couple_of(therapist, "Held couple", safety_hold=True)
    store_week(
        held,
        c,
        d,
        balance="one_sided",
        gap=60.0,
        flags=[flag("low_engagement_streak", d, weeks=[], scores=[])],
    )
    couple_of(therapist, "Quiet couple", status="paused")

    english, spanish = send_twice(mailbox, therapist)

    assert spanish.subject.startswith("Tus casos en Duet, semana del ")
    assert "Pausa de seguridad" in spanish.html
    assert "pausa de seguridad" in spanish.text
    assert "Sin informe esta semana" in spanish.html
    assert_in_spanish(
        english, spanish, [therapist.display_name, "Calm couple", "Held couple", "Quiet couple"]
    )


def test_a_minimal_digest_is_in_spanish(mailbox: RefusingMailbox) -> None:
    _couple, a, b, _ = reported_couple(therapist=False)
    User.objects.filter(pk=a.pk).update(digest_detail="minimal")
    User.objects.filter(pk=b.pk).update(weekly_digest=False)

    english, spanish = send_twice(mailbox, a)

    assert spanish.subject == "Tu semana en Duet"
    assert "Tu resumen semanal está listo" in spanish.text
    assert_in_spanish(english, spanish, [])


def test_an_english_speakers_digest_stays_english_beside_a_spanish_partner(
    mailbox: RefusingMailbox,
) -> None:
    _couple, a, b, _ = reported_couple(therapist=False)
    User.objects.filter(pk=b.pk).update(language="es")

    send_digests_at()

    assert mailbox.only(a.email).subject == "Your Duet week in review"
    assert mailbox.only(b.email).subject == "Tu semana en Duet"


# --- invitations ----------------------------------------------------------------------------


def twice(user: User, send: Callable[[], Any]) -> tuple[Any, Any]:
    """The same email sent in English, then in Spanish, to ``user``."""
    mail.outbox.clear()
    User.objects.filter(pk=user.pk).update(language="en")
    send()
    User.objects.filter(pk=user.pk).update(language="es")
    send()
    english, spanish = (m for m in mail.outbox if m.to == [user.email])
    return english, spanish


def one_partner(*, therapist: bool) -> tuple[Any, User, User | None]:
    """A couple with one free partner slot."""
    couple, partner, other, their_therapist = make_couple(therapist=therapist)
    Membership.objects.filter(couple=couple, user=other).update(
        left_at=timezone.now(), partner_slot=None
    )
    return couple, partner, their_therapist


@pytest.mark.parametrize("by_therapist", [False, True], ids=["partner", "therapist"])
def test_an_acceptance_notice_is_in_the_inviters_language(
    django_capture_on_commit_callbacks: Any, by_therapist: bool
) -> None:
    couple, partner, therapist = one_partner(therapist=by_therapist)
    inviter = therapist if therapist is not None else partner
    invitation, token = make_invitation(couple=couple, invited_by=inviter)
    client = APIClient()
    client.force_authenticate(UserFactory.create(display_name="Jo Newcomer"))
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post("/api/v1/invitations/accept/", {"token": token}).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED

    english, spanish = twice(
        inviter, lambda: invitation_emails.send_acceptance_email(invitation_id=str(invitation.pk))
    )

    assert spanish.subject == "Aceptaron tu invitación a Duet"
    names = [inviter.display_name, "Jo Newcomer", str(couple)]
    assert_in_spanish(english, spanish, names)


def test_partners_are_told_of_a_new_therapist_each_in_their_own_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    User.objects.filter(pk=other.pk).update(language="es")
    invitation, token = make_invitation(couple=couple, invited_by=therapist, role="therapist")
    client = APIClient()
    client.force_authenticate(TherapistFactory.create(display_name="Dr. New"))
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post("/api/v1/invitations/accept/", {"token": token}).status_code == 200

    mail.outbox.clear()
    invitation_emails.send_therapist_joined_emails(invitation_id=str(invitation.pk))

    by_address = {m.to[0]: m for m in mail.outbox}
    english, spanish = by_address[partner.email], by_address[other.email]
    assert english.subject == "Someone new has joined you on Duet"
    assert spanish.subject == "Alguien nuevo se unió a ti en Duet"
    assert "terap" not in spanish.subject.lower()
    assert_in_spanish(
        english, spanish, [partner.display_name, other.display_name, "Dr. New", str(couple)]
    )


def test_an_invitation_to_an_address_without_an_account_is_in_the_inviters_language() -> None:
    couple, partner, _none = one_partner(therapist=False)
    invitation, token = make_invitation(
        couple=couple, invited_by=partner, email="new.person@example.com"
    )

    mail.outbox.clear()
    for language in ("en", "es"):
        User.objects.filter(pk=partner.pk).update(language=language)
        invitation_emails.send_invitation_email(invitation_id=str(invitation.pk), token=token)
    english, spanish = mail.outbox

    assert english.subject == "You have an invitation to join Duet"
    assert spanish.subject == "Tienes una invitación para unirte a Duet"
    assert_in_spanish(english, spanish, [partner.display_name, str(couple)])


def test_an_invitation_to_a_known_account_is_in_that_accounts_language() -> None:
    couple, partner, _none = one_partner(therapist=False)
    User.objects.filter(pk=partner.pk).update(language="es")
    invitee = UserFactory.create(email="known@example.com", language="en")
    invitation, token = make_invitation(couple=couple, invited_by=partner, email=invitee.email)

    invitation_emails.send_invitation_email(invitation_id=str(invitation.pk), token=token)

    assert [m.subject for m in mail.outbox] == ["You have an invitation to join Duet"]


# --- account notes ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", account_emails.ACCOUNT_NOTES)
def test_account_notes_are_in_the_recipients_language(name: str) -> None:
    user = UserFactory.create(display_name="Arvessa")

    def send() -> None:
        user.refresh_from_db()
        account_emails.account_note(name, user).send()

    english, spanish = twice(user, send)

    assert spanish.extra_headers["Content-Language"] == "es"
    assert_in_spanish(english, spanish, [user.display_name])


# --- the catalogues -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_message_and_plural_has_a_spanish_translation(path: Any) -> None:
    catalogue = polib.pofile(str(path))
    assert catalogue.fuzzy_entries() == []
    for entry in catalogue:
        if entry.msgid_plural:
            assert all(form.strip() for form in entry.msgstr_plural.values()), entry.msgid
            assert len(entry.msgstr_plural) == 3, entry.msgid  # nplurals=3, Django's for es
        else:
            assert entry.msgstr.strip(), entry.msgid
        # Every placeholder of the English survives in the Spanish.
        pairs = [(entry.msgid, entry.msgstr)]
        if entry.msgid_plural:
            forms = [entry.msgstr_plural[n] for n in sorted(entry.msgstr_plural)]
            pairs = [(entry.msgid, forms[0])] + [(entry.msgid_plural, form) for form in forms[1:]]
        for english, spanish in pairs:
            assert sorted(set(re.findall(r"%\(\w+\)s", english))) == sorted(
                set(re.findall(r"%\(\w+\)s", spanish))
            ), entry.msgid
