"""Every byte of a partner, a therapist and a minimal digest, in English and Spanish, pinned
against the files in golden/: headers (but Date and Message-ID), subject, text and HTML. Work
on how a digest is rendered or assembled (issue 20) must leave all of it unchanged.

After an intended change of wording or layout, rewrite the files with
`DUET_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/engagement/digests/test_rendered_bytes.py`
and read their diff.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail import EmailMessage

from accounts.models import User
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import SEND
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import as_shared
from tests.engagement.digests.builders import figures
from tests.engagement.digests.builders import other_figures
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.builders import send_digests_at
from tests.engagement.digests.builders import store_report
from tests.engagement.reports.builders import away
from tests.factories import CommitmentFactory
from tests.factories import TherapistFactory
from tests.factories import TherapySessionFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What differs from one run to the next: ids, the signed unsubscribe token, the MIME boundary.
VARYING = (
    (re.compile(rb"^(Date|Message-ID): .*$", re.M), rb"\1: -"),
    (re.compile(rb"token=[A-Za-z0-9_:%\-]+"), b"token=-"),
    (re.compile(rb"={15}[0-9]+=="), b"=boundary="),
)


def normalised(message: EmailMessage, names: dict[str, str]) -> bytes:
    raw = message.message().as_bytes(linesep="\n")
    for pattern, replacement in VARYING:
        raw = pattern.sub(replacement, raw)
    text = raw.decode()
    for uuid, name in names.items():
        text = text.replace(uuid, name)
    assert not UUID.search(text), "an id not named in the test"
    return text.encode()


def assert_golden(message: EmailMessage, name: str, names: dict[str, str]) -> None:
    path = GOLDEN / f"{name}.eml"
    rendered = normalised(message, names)
    if os.environ.get("DUET_WRITE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(rendered)
    assert rendered == path.read_bytes()


def the_week(
    language: str,
) -> tuple[dict[str, EmailMessage], dict[str, str]]:
    """A therapist with two couples: one with eight weeks of reports, a shared balance, away
    days, a joint session and a commitment coming up; one held, with a new flag. Partner ``a``
    reads the full digest, ``b`` the minimal one. Everyone in ``language``."""
    therapist: User = TherapistFactory.create(
        display_name="Dr. Ilse Marr", email="marr@example.com"
    )
    couple, a, b, _ = reported_couple(
        therapist=therapist, name="Arvessa & Quillon", partners_see_balance=True
    )
    Membership.objects.filter(couple=couple, role="partner").update(shares_balance=True)
    for n, days in enumerate((2, 5, 0, 4, 1, 7, 3), start=1):
        week = WEEK - dt.timedelta(weeks=n)
        store_report(couple, week, [figures(a, checkin_days=days), other_figures(b)])
    WeeklyReport.objects.filter(couple=couple, week_start=WEEK).update(
        partner_views=[as_shared(figures(a), shared_away_days=2), as_shared(other_figures(b))]
    )
    away(couple, a, WEEK + dt.timedelta(days=1), WEEK + dt.timedelta(days=2))
    TherapySessionFactory.create(couple=couple, starts_at=SEND + dt.timedelta(days=2, hours=9))
    CommitmentFactory.create(
        couple=couple,
        owner=a,
        title="Walk <together> on Sunday",
        due_on=NEXT_MONDAY + dt.timedelta(days=3),
    )
    held, c, d, _ = make_couple(therapist=therapist, name="Held couple", safety_hold=True)
    store_report(
        held,
        WEEK,
        [figures(c), figures(d)],
        balance=WeeklyReport.Balance.ONE_SIDED,
        flags=[{"code": "safety_concern", "partner": str(c.id), "evidence": {}}],
    )
    User.objects.filter(pk__in=[c.pk, d.pk]).update(weekly_digest=False)
    User.objects.filter(pk=b.pk).update(digest_detail=User.DigestDetail.MINIMAL)
    User.objects.filter(pk__in=[a.pk, b.pk, therapist.pk]).update(language=language)
    Couple.objects.filter(pk=couple.pk).update(status=Couple.Status.ACTIVE)

    send_digests_at()

    by_address = {message.to[0]: message for message in mail.outbox}
    messages = {
        "partner": by_address[a.email],
        "minimal": by_address[b.email],
        "therapist": by_address[therapist.email],
    }
    people = {a: "A", b: "B", c: "C", d: "D", therapist: "T"}
    names = {str(person.id): label for person, label in people.items()}
    names |= {str(couple.id): "COUPLE", str(held.id): "HELD"}
    # Addresses come from a sequence that depends on the order tests run in.
    names |= {person.email: f"{label.lower()}@example.com" for person, label in people.items()}
    return messages, names


@pytest.mark.parametrize("language", ["en", "es"])
def test_digests_render_byte_for_byte_as_pinned(language: str) -> None:
    messages, names = the_week(language)

    for kind, message in messages.items():
        assert_golden(message, f"{kind}-{language}", names)
