"""The partner digest: their own week, what is coming, encouragement, their own chart; the
balance only when shared; nothing of the other partner; names escaped."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import TherapySession
from engagement.reports.pipeline import compute_reports
from tests.engagement.digests.builders import FRONTEND_URL
from tests.engagement.digests.builders import LONG_AGO
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import SEND
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import figures
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.builders import send_digests_at
from tests.engagement.digests.builders import store_report
from tests.engagement.digests.conftest import RefusingMailbox
from tests.engagement.reports.builders import away
from tests.engagement.reports.builders import feedback
from tests.engagement.reports.builders import goal
from tests.engagement.reports.builders import safety_alert
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db


def both_parts(mailbox: RefusingMailbox, address: str) -> str:
    message = mailbox.only(address)
    return message.text + "\n" + message.html


def share_balance(couple: Couple) -> None:
    couple.partners_see_balance = True
    couple.save()
    Membership.objects.filter(couple=couple, role="partner").update(shares_balance=True)


def test_partner_digest_tells_their_own_week(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple()

    send_digests_at()

    message = mailbox.only(a.email)
    assert message.subject == "Your Duet week in review"
    for part in (message.text, message.html):
        assert "you attended 1 of 1" in part
        assert "1 kept, 1 missed, 1 waiting for your answer" in part
        assert "3 days (your target: 4 a week)" in part
        assert "still waiting for your answer" in part  # encouragement to answer, gently
        assert f"{FRONTEND_URL}/couples/{couple.id}/reports/{WEEK}" in part
        assert b.display_name in part  # the other partner's name, and nothing more of them


def test_partner_digest_carries_nothing_of_the_other_partner(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple()
    secrets = []
    for visibility in ("private", "therapist", "couple"):
        secret = f"b-{visibility}-note-7f3a"
        secrets.append(secret)
        CheckInFactory.create(
            couple=couple,
            author=b,
            date=WEEK + dt.timedelta(days=len(secrets)),
            note=secret,
            resentment=5,
            visibility=visibility,
        )
    TherapySessionFactory.create(
        couple=couple,
        starts_at=SEND + dt.timedelta(days=2),
        therapist_notes="therapist-notes-9c1e",
    )
    TherapySessionFactory.create(
        couple=couple,
        kind=TherapySession.Kind.INDIVIDUAL,
        focus_partner=b,
        starts_at=SEND + dt.timedelta(days=3),
    )
    CommitmentFactory.create(
        couple=couple, owner=b, title="b-promise-4d2b", due_on=NEXT_MONDAY + dt.timedelta(days=2)
    )
    secrets += ["therapist-notes-9c1e", "b-promise-4d2b"]

    send_digests_at()

    parts = both_parts(mailbox, a.email)
    for secret in secrets:
        assert secret not in parts
    # b's figures (engagement 12.3, 6 check-in days, 4 missed, 5 unanswered, averages) too.
    for figure in ("12.3", "6 days", "4 missed", "5 waiting", "4.75", "1.25", "Individual"):
        assert figure not in parts
    # The joint session is a's to see; b's individual session is not.
    assert parts.count("Joint session") == 2
    assert "Your individual session" not in parts
    assert "score" not in parts.lower()


def test_partner_digest_counts_only_what_the_other_partner_could_read(
    mailbox: RefusingMailbox,
) -> None:
    couple, a, b, _ = make_couple(created_at=local(WEEK - dt.timedelta(weeks=3), 9))
    for offset, visibility in enumerate(("private", "therapist", "couple")):
        CheckInFactory.create(
            couple=couple,
            author=b,
            date=WEEK + dt.timedelta(days=offset),
            note=f"computed-{visibility}-secret",
            wellbeing=1,
            visibility=visibility,
        )
    for offset in range(2):
        CheckInFactory.create(
            couple=couple, author=a, date=WEEK + dt.timedelta(days=offset), visibility="private"
        )
    CheckInFactory.create(
        couple=couple, author=a, date=WEEK + dt.timedelta(days=4), visibility="couple"
    )
    with time_machine.travel(local(NEXT_MONDAY, 1), tick=False):
        compute_reports({couple.id: [WEEK]})

    send_digests_at()

    parts = both_parts(mailbox, a.email)
    # An inbox may be shared (SPEC 7): a's own private check-ins are not counted, only the
    # `couple` one b could read in the app.
    assert "1 day (your target: 4 a week)" in parts
    assert "computed-" not in parts
    assert "3 days" not in parts  # not a's three, nor b's three


def test_balance_is_shown_only_when_both_partners_share_it(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple()
    couple.partners_see_balance = True
    couple.save()
    Membership.objects.filter(couple=couple, user=a).update(shares_balance=True)

    send_digests_at()

    for user in (a, b):
        parts = both_parts(mailbox, user.email)
        assert "Your couple's balance" not in parts
        assert "Leaning" not in parts


def test_shared_balance_is_shown_with_its_trend(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple()
    share_balance(couple)

    send_digests_at()

    for user in (a, b):
        parts = both_parts(mailbox, user.email)
        assert "Leaning: this week the work leaned a little to one side." in parts
        assert "it has held steady" in parts
        assert "20.0" not in parts  # the gap's number is not what a partner needs


def test_a_safety_hold_changes_nothing_in_the_partner_digest(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple(safety_hold=True)
    share_balance(couple)
    TherapySessionFactory.create(couple=couple, starts_at=SEND + dt.timedelta(days=1))
    TherapySessionFactory.create(
        couple=couple,
        kind=TherapySession.Kind.INDIVIDUAL,
        focus_partner=a,
        starts_at=SEND + dt.timedelta(days=2),
    )

    send_digests_at()

    parts = both_parts(mailbox, a.email)
    # Exactly as without a hold (SPEC 1, "Safety hold"): nothing in it tells of the hold.
    assert "you attended 1 of 1" in parts
    assert "Leaning: this week the work leaned a little to one side." in parts
    assert b.display_name in parts
    assert "Joint session" in parts
    # Individual sessions are never in a partner digest (an inbox may be shared).
    assert "individual" not in parts.lower()
    assert "hold" not in parts.lower()


def test_minimal_detail_sends_only_that_the_summary_is_ready(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple()
    a.digest_detail = "minimal"
    a.save()

    send_digests_at()

    message = mailbox.only(a.email)
    assert message.subject == "Your Duet week in review"
    assert "Your weekly summary is ready" in message.text
    assert f"{FRONTEND_URL}/reports/{WEEK}" in message.text
    for part in (message.text, message.html):
        assert b.display_name not in part
        assert a.display_name not in part
        assert str(couple) not in part
        assert "kept" not in part


def test_names_are_escaped_in_the_html_part(mailbox: RefusingMailbox) -> None:
    _, a, b, _ = reported_couple(name='Ann & "Bob"')
    a.display_name = "<script>alert(1)</script>"
    a.save()
    b.display_name = 'Bob <b>"the builder"</b>'
    b.save()

    send_digests_at()

    html = mailbox.only(a.email).html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Ann &amp; &quot;Bob&quot;" in html
    assert "Bob &lt;b&gt;&quot;the builder&quot;&lt;/b&gt;" in html
    assert "<script>alert(1)</script>" in mailbox.only(a.email).text  # plain text is plain


def test_chart_shows_their_own_last_eight_weeks_without_remote_images(
    mailbox: RefusingMailbox,
) -> None:
    couple, a, b, _ = reported_couple()
    for weeks_ago, days in ((1, 5), (2, 0), (4, 2)):
        week = WEEK - dt.timedelta(weeks=weeks_ago)
        store_report(couple, week, [figures(a, checkin_days=days), figures(b, checkin_days=7)])

    send_digests_at()

    message = mailbox.only(a.email)
    chart = message.text.split("the last 8 weeks")[1].split("Coming up")[0]
    rows = [line.split() for line in chart.strip().splitlines()[1:9]]
    assert [" ".join(row[0:2]) for row in rows] == [
        "15 Dec",
        "22 Dec",
        "29 Dec",
        "5 Jan",
        "12 Jan",
        "19 Jan",
        "26 Jan",
        "2 Feb",
    ]
    # Weeks without a report are marked; the others show a's days, never b's seven.
    assert [row[-1] for row in rows] == ["-", "-", "-", "2", "-", "0", "5", "3"]
    html = message.html
    assert "<img" not in html
    assert not re.search(r"url\(|src=", html)
    assert html.count("background-color: #3b5bdb;") >= 2 + 5 + 3


def test_coming_up_lists_their_sessions_and_own_commitments(mailbox: RefusingMailbox) -> None:
    couple, a, _, _ = reported_couple()
    evening = local(NEXT_MONDAY, 18)
    TherapySessionFactory.create(couple=couple, starts_at=evening + dt.timedelta(days=1))
    TherapySessionFactory.create(
        couple=couple,
        starts_at=evening + dt.timedelta(days=2),
        status=TherapySession.Status.CANCELLED,
    )
    TherapySessionFactory.create(couple=couple, starts_at=evening + dt.timedelta(days=9))
    thursday = NEXT_MONDAY + dt.timedelta(days=3)
    for title, fields in (
        ("Plan a walk together", {"visibility": Commitment.Visibility.COUPLE}),
        ("Therapist-only homework", {"visibility": Commitment.Visibility.THERAPIST}),
        ("Already kept", {"status": Commitment.Status.KEPT}),
    ):
        CommitmentFactory.create(couple=couple, owner=a, title=title, due_on=thursday, **fields)

    send_digests_at()

    text = mailbox.only(a.email).text
    assert "Tue 10 Feb, 18:00: Joint session" in text
    assert "by Thu 12 Feb: Plan a walk together" in text
    assert text.count("Joint session") == 1
    assert "Already kept" not in text
    assert "Therapist-only homework" not in text  # only `couple` commitments


def test_one_digest_for_a_partner_in_several_couples(mailbox: RefusingMailbox) -> None:
    _, a, _, _ = reported_couple(name="First couple")
    second, c, d, _ = make_couple(name="Second couple", created_at=LONG_AGO)
    Membership.objects.filter(couple=second, user=c).update(user=a)
    store_report(second, WEEK, [figures(a), figures(d)])

    send_digests_at()

    message = mailbox.only(a.email)
    assert "First couple" in message.text
    assert "Second couple" in message.text
    assert message.text.count("Open your week in Duet") == 2


def test_paused_couple_has_no_content_and_alone_gives_no_digest(mailbox: RefusingMailbox) -> None:
    _, a, _, _ = reported_couple(name="Still going")
    paused, c, d, _ = reported_couple(name="Taking a break", status=Couple.Status.PAUSED)
    Membership.objects.filter(couple=paused, user=c).update(user=a)

    send_digests_at()

    assert "Taking a break" not in mailbox.only(a.email).text
    assert mailbox.to(d.email) == []


def test_no_digest_without_an_active_couple(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple()
    # Left once the week had ended: the week still lies in b's partnership with a.
    Membership.objects.filter(couple=couple, user=a).update(left_at=local(NEXT_MONDAY, 1))
    _, c, _, _ = reported_couple(status=Couple.Status.ENDED)

    send_digests_at()

    assert mailbox.to(a.email) == []
    assert mailbox.to(c.email) == []
    assert len(mailbox.to(b.email)) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"email_verified_at": None},
        {"weekly_digest": False},
        {"is_active": False},
        {"erased_at": local(WEEK, 12)},
    ],
    ids=["unverified", "unsubscribed", "deactivated", "erased"],
)
def test_no_digest_for_unverified_unsubscribed_or_gone_users(
    mailbox: RefusingMailbox, change: dict[str, object]
) -> None:
    _, a, b, _ = reported_couple()
    type(a).objects.filter(pk=a.pk).update(**change)

    send_digests_at()

    assert mailbox.to(a.email) == []
    assert len(mailbox.to(b.email)) == 1


def test_digest_of_a_week_without_checkin_target_counts_days_only(
    mailbox: RefusingMailbox,
) -> None:
    _, a, _, _ = reported_couple(checkin_target_per_week=0)

    send_digests_at()

    text = mailbox.only(a.email).text
    assert re.search(r"Check-ins: 3 days\r?\n", text)
    assert "target" not in text


def test_a_quiet_week_is_met_with_warmth_not_blame(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = make_couple(created_at=LONG_AGO)
    # The session expected and the promise missed (as by default), nothing done.
    quiet = figures(
        a, sessions_attended=0, checkin_days=0, commitments_kept=0, commitments_unreported=0
    )
    store_report(couple, WEEK, [quiet, figures(b)])

    send_digests_at()

    text = mailbox.only(a.email).text.lower()
    assert "a quiet one here, and that is all right" in text
    for word in ("fail to", "failed", "should have", "your partner", "separat", "compare"):
        assert word not in text


def test_a_partner_who_is_also_a_therapist_gets_two_separate_digests_once(
    mailbox: RefusingMailbox,
) -> None:
    # docs/reports.md, "Digests": a user who is a partner in one couple and the therapist of
    # another gets the partner digest and the therapist digest as two mails of their own
    # kinds (each once a week), so neither content rule bends: the partner digest stays
    # readable in a shared inbox, the caseload stays out of it.
    _, a, _, _ = reported_couple(name="Our couple")
    clients, _, _, therapist = reported_couple(name="Client couple X")
    assert therapist is not None
    type(a).objects.filter(pk=a.pk).update(is_therapist=True)
    Membership.objects.filter(couple=clients, user=therapist).update(user=a)

    send_digests_at()
    send_digests_at(SEND + dt.timedelta(hours=2))

    messages = mailbox.to(a.email)
    assert sorted(m.subject for m in messages) == [
        "Your Duet caseload, week of 2\N{EN DASH}8 February 2026",
        "Your Duet week in review",
    ]
    partner_mail = next(m for m in messages if m.subject == "Your Duet week in review")
    caseload_mail = next(m for m in messages if m.subject != "Your Duet week in review")
    assert "Client couple X" not in partner_mail.text + partner_mail.html
    assert "Our couple" in partner_mail.text
    assert "Our couple" not in caseload_mail.text  # they are no therapist of their own couple
    assert "Client couple X" in caseload_mail.text


def test_partner_digest_shows_their_own_couple_away_days_and_nothing_else_of_v11(
    mailbox: RefusingMailbox,
) -> None:
    """Their `couple` away days as such; never a therapist-only period, never anything of the
    other partner, never feedback, goals or safety (SPEC 7)."""
    couple, a, b, _ = make_couple(created_at=local(WEEK - dt.timedelta(weeks=3), 9))
    # a: two `couple` days away (Mon-Tue) and two therapist-only ones (Thu-Fri).
    away(couple, a, WEEK, WEEK + dt.timedelta(days=1), "couple")
    away(couple, a, WEEK + dt.timedelta(days=3), WEEK + dt.timedelta(days=4), "therapist")
    # b: five `couple` days away, feedback, a goal and a safety alert.
    away(couple, b, WEEK, WEEK + dt.timedelta(days=4), "couple")
    row = TherapySessionFactory.create(
        couple=couple, starts_at=local(WEEK + dt.timedelta(days=2), 18), status="completed"
    )
    feedback(row, a, (2, 2, 2, 2))
    feedback(row, b, (9, 9, 9, 9))
    goal(couple, a, "decide", local(WEEK, 9))
    goal(couple, b, "work_on_it", local(WEEK, 10))
    safety_alert(couple, a, WEEK + dt.timedelta(days=2))
    with time_machine.travel(local(NEXT_MONDAY, 1), tick=False):
        compute_reports({couple.id: [WEEK]})

    send_digests_at()

    message = mailbox.only(a.email)
    for part in (message.text, message.html):
        assert "Days away" in part
        assert "2 days" in part  # their own `couple` days
        assert "4 days" not in part  # not with the therapist-only ones
        assert "5 days" not in part  # nothing of b's
        for word in ("alliance", "feedback", "goal", "safe", "afraid", "decide", "work_on_it"):
            assert word not in part.lower()
    text_b = mailbox.only(b.email).text
    assert "5 days" in text_b
    assert "Days away" in text_b


def test_no_days_away_line_without_couple_away_days(mailbox: RefusingMailbox) -> None:
    couple, a, _, _ = reported_couple()
    away(couple, a, WEEK, WEEK + dt.timedelta(days=2), "therapist")

    send_digests_at()

    assert "Days away" not in both_parts(mailbox, a.email)
