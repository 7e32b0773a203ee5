"""The therapist digest: one email for the caseload, most urgent first, new flags counted,
with links to the details and no scores, evidence or notes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from accounts.models import User
from engagement.models import Couple
from engagement.models import WeeklyReport
from tests.engagement.digests.builders import FRONTEND_URL
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import figures
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import send_digests_at
from tests.engagement.digests.builders import store_report
from tests.engagement.digests.conftest import RefusingMailbox
from tests.factories import TherapistFactory
from tests.factories import TherapySessionFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

PREVIOUS = WEEK - dt.timedelta(weeks=1)


def flag(code: str, partner: User, **evidence: Any) -> dict[str, Any]:
    return {"code": code, "partner": str(partner.id), "evidence": evidence}


def send() -> None:
    send_digests_at(local(NEXT_MONDAY, 8))


@pytest.fixture
def therapist() -> User:
    user: User = TherapistFactory.create(display_name="Dr. Rivera")
    return user


def couple_of(therapist: User, name: str, **fields: Any) -> tuple[Couple, User, User]:
    couple, a, b, _ = make_couple(therapist=therapist, name=name, **fields)
    # Only the therapist's email is under test here.
    User.objects.filter(pk__in=[a.pk, b.pk]).update(weekly_digest=False)
    return couple, a, b


def store_week(couple: Couple, a: User, b: User, **report: Any) -> None:
    """A report of WEEK in which both partners have the default figures."""
    store_report(couple, WEEK, [figures(a), figures(b)], **report)


def test_one_email_for_the_whole_caseload_most_urgent_first(
    mailbox: RefusingMailbox, therapist: User
) -> None:
    calm, a, b = couple_of(therapist, "Calm couple")
    store_week(calm, a, b, balance="balanced", gap=5.0)
    streak, c, d = couple_of(therapist, "Streak couple")
    store_week(
        streak,
        c,
        d,
        balance="one_sided",
        gap=60.0,
        flags=[flag("low_engagement_streak", d, weeks=[], scores=[])],
    )
    wellbeing, e, f = couple_of(therapist, "Wellbeing couple")
    store_week(
        wellbeing,
        e,
        f,
        balance="leaning",
        gap=20.0,
        flags=[flag("wellbeing_decline", e, wellbeing_avg=1.5)],
    )
    held, g, h = couple_of(therapist, "Held couple", safety_hold=True)
    store_week(held, g, h, balance="insufficient_data", gap=None)
    paused, _, _ = couple_of(therapist, "Paused couple", status=Couple.Status.PAUSED)

    send()

    message = mailbox.only(therapist.email)
    order = ["Held couple", "Wellbeing couple", "Streak couple", "Calm couple", "Paused couple"]
    for part in (message.text, message.html):
        positions = [part.index(name) for name in order]
        assert positions == sorted(positions)
        assert "Safety hold" in part or "safety hold" in part
    text = message.text
    assert "Balance: One-sided" in text
    assert "Balance: Balanced" in text
    for couple in (calm, streak, wellbeing, held, paused):
        assert f"{FRONTEND_URL}/couples/{couple.id}/reports/{WEEK}" in text
    assert f"{FRONTEND_URL}/caseload" in text


def test_new_flags_are_those_not_raised_the_week_before(
    mailbox: RefusingMailbox, therapist: User
) -> None:
    couple, a, b = couple_of(therapist, "Couple")
    store_report(
        couple,
        PREVIOUS,
        [figures(a), figures(b)],
        flags=[flag("engagement_gap_streak", b), flag("wellbeing_decline", a)],
    )
    store_week(
        couple,
        a,
        b,
        flags=[
            flag("engagement_gap_streak", b),  # raised last week too
            flag("wellbeing_decline", b),  # the same code, about the other partner: new
            flag("commitments_unkept", b),  # new
        ],
    )

    send()

    text = mailbox.only(therapist.email).text
    assert "New flags: 2" in text
    assert "1 with new flags" in text


def test_no_scores_flag_evidence_or_notes_in_the_email(
    mailbox: RefusingMailbox, therapist: User
) -> None:
    couple, a, b = couple_of(therapist, "Couple")
    store_report(
        couple,
        WEEK,
        [figures(a, engagement_score=87.6), figures(b, engagement_score=12.3)],
        balance="one_sided",
        gap=75.3,
        less_engaged_partner=b,
        flags=[flag("engagement_gap_streak", b, weeks=["2026-01-19"], gaps=[55.5, 66.6, 75.3])],
    )
    TherapySessionFactory.create(
        couple=couple, starts_at=local(WEEK, 18), therapist_notes="session-notes-5e2a"
    )

    send()

    message = mailbox.only(therapist.email)
    for part in (message.text, message.html):
        for secret in ("87.6", "12.3", "75.3", "55.5", "66.6", "session-notes-5e2a"):
            assert secret not in part
        assert "engagement_gap_streak" not in part
        assert a.display_name not in part
        assert b.display_name not in part
        assert "New flags" in part or "NEW FLAGS" in part.upper()


def test_couple_names_are_escaped(mailbox: RefusingMailbox, therapist: User) -> None:
    couple, a, b = couple_of(therapist, '<img src=x onerror=alert(1)> & "Co"')
    store_week(couple, a, b)
    User.objects.filter(pk=therapist.pk).update(display_name="Dr. <b>Bold</b>")

    send()

    html = mailbox.only(therapist.email).html
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co&quot;" in html
    assert "Dr. &lt;b&gt;Bold&lt;/b&gt;" in html


def test_minimal_detail_links_to_the_caseload_only(
    mailbox: RefusingMailbox, therapist: User
) -> None:
    couple, a, b = couple_of(therapist, "Couple with a name")
    store_week(couple, a, b, balance=WeeklyReport.Balance.ONE_SIDED)
    User.objects.filter(pk=therapist.pk).update(digest_detail="minimal")

    send()

    message = mailbox.only(therapist.email)
    assert "Your weekly summary is ready" in message.text
    assert f"{FRONTEND_URL}/caseload" in message.text
    for part in (message.text, message.html):
        assert "Couple with a name" not in part
        assert "One-sided" not in part


def test_a_therapist_with_only_paused_couples_gets_none(
    mailbox: RefusingMailbox, therapist: User
) -> None:
    couple_of(therapist, "Paused couple", status=Couple.Status.PAUSED)

    send()

    assert mailbox.to(therapist.email) == []


def test_new_v11_flags_count_and_safety_signals_are_counted_without_details(
    mailbox: RefusingMailbox, therapist: User
) -> None:
    unsafe, a, b = couple_of(therapist, "Unsafe couple")
    store_week(
        unsafe,
        a,
        b,
        gap=10.0,
        flags=[flag("safety_concern", a, dates=["2026-02-04"]), flag("split_alliance", b)],
    )
    mixed, c, d = couple_of(therapist, "Mixed couple")
    store_week(
        mixed,
        c,
        d,
        gap=50.0,
        flags=[{"code": "goal_mismatch", "partner": None, "evidence": {}}],
    )
    calm, e, f = couple_of(therapist, "Calm couple")
    store_week(calm, e, f, gap=60.0)

    send()

    message = mailbox.only(therapist.email)
    for part in (message.text, message.html):
        # The safety signal first (SPEC 5.8), then goal_mismatch's level, then the rest.
        positions = [part.index(n) for n in ("Unsafe couple", "Mixed couple", "Calm couple")]
        assert positions == sorted(positions)
        assert "1 couple with a safety signal this week" in part
        assert "2026-02-04" not in part
        assert "safety_concern" not in part
        assert "split_alliance" not in part
    assert "2 with new flags" in message.text
    assert "New flags: 2" in message.text
    assert "New flags: 1" in message.text


def test_no_safety_line_without_a_safety_signal(mailbox: RefusingMailbox, therapist: User) -> None:
    calm, a, b = couple_of(therapist, "Calm couple")
    store_week(calm, a, b, gap=5.0)

    send()

    assert "safety signal" not in mailbox.only(therapist.email).text
