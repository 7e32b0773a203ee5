"""`manage.py send_digests`: a week's digests now, whatever the send times; and its cost."""

from __future__ import annotations

import datetime as dt
import gc
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from engagement.digests import pipeline
from engagement.digests import schedule
from engagement.management.commands.seed_demo import DEMO_COUPLES
from engagement.models import Couple
from engagement.models import DigestDelivery
from engagement.models import Membership
from engagement.reports.weeks import last_completed_week
from tests.engagement.digests.builders import LONG_AGO
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import figures
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.builders import store_report
from tests.engagement.digests.conftest import RefusingMailbox
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

BEFORE_SEND_TIME = local(NEXT_MONDAY, 0, minute=30)


def send_digests(*args: str, at: dt.datetime = BEFORE_SEND_TIME) -> str:
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command("send_digests", *args, stdout=out)
    return out.getvalue()


def test_sends_the_last_completed_week_now_whatever_the_send_time(
    mailbox: RefusingMailbox,
) -> None:
    _, a, b, therapist = reported_couple()
    assert therapist is not None

    output = send_digests()

    for user in (a, b, therapist):
        assert len(mailbox.to(user.email)) == 1
    assert "Digests of each recipient's last completed week:" in output
    assert "3  sent" in output
    assert "already sent" not in output

    again = send_digests()
    assert "3  already sent or settled" in again
    assert len(mailbox.messages) == 3


def test_the_run_leaves_imported_objects_out_of_garbage_collection_and_then_puts_them_back(
    mailbox: RefusingMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a worker pool process does (config/celery.py): while the command sends, what was
    loaded before is frozen and the youngest generation collected less often; after it, the
    collector is as it was (a test calling the command changes nothing for the next)."""
    reported_couple(therapist=False)
    before = (gc.get_threshold(), gc.get_freeze_count())
    seen: list[tuple[tuple[int, int, int], int]] = []
    send = pipeline.send_digests

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return send(*args, **kwargs)

    monkeypatch.setattr(pipeline, "send_digests", watched)
    send_digests()

    assert len(mailbox.messages) == 2
    ((threshold, frozen),) = seen
    assert threshold[0] == 50_000
    assert frozen > before[1] + 10_000  # Django and the apps, at the least
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_sends_an_earlier_week_when_asked(mailbox: RefusingMailbox) -> None:
    couple, a, b, _ = reported_couple(therapist=False)
    earlier = WEEK - dt.timedelta(weeks=1)
    store_report(couple, earlier, [figures(a, checkin_days=6), figures(b)])

    output = send_digests("--week", earlier.isoformat())

    assert "the week of 2026-01-26" in output
    assert "26 January" in mailbox.only(a.email).text or "26 Jan" in mailbox.only(a.email).text
    assert set(DigestDelivery.objects.values_list("week_start", flat=True)) == {earlier}


def test_says_which_digests_wait_for_their_report(mailbox: RefusingMailbox) -> None:
    from tests.factories import make_couple

    make_couple(therapist=False)

    output = send_digests()

    assert "2  waiting for their report" in output
    assert mailbox.messages == []


def test_never_gives_up_on_a_report_it_could_still_get(mailbox: RefusingMailbox) -> None:
    from tests.engagement.digests.builders import LONG_AGO
    from tests.factories import make_couple

    couple, a, b, _ = make_couple(therapist=False, created_at=LONG_AGO)
    long_after = local(NEXT_MONDAY, 0) + dt.timedelta(days=3)

    output = send_digests("--week", WEEK.isoformat(), at=long_after)
    assert "2  waiting for their report" in output

    store_report(couple, WEEK, [figures(a), figures(b)])
    output = send_digests("--week", WEEK.isoformat(), at=long_after)
    assert "2  sent" in output


@pytest.mark.parametrize("week", ["2026-02-03", "last week"])
def test_refuses_a_week_that_is_not_a_monday(db: None, week: str) -> None:
    with pytest.raises(CommandError):
        call_command("send_digests", "--week", week)


def test_async_hands_the_chunks_to_the_workers(mailbox: RefusingMailbox) -> None:
    _, a, b, _ = reported_couple(therapist=False)

    output = send_digests("--async")

    assert "Queued digests of each recipient's last completed week for 2 user(s) in 1 task(s)." in (
        output
    )
    # Tests run tasks eagerly: the workers' part has happened.
    assert len(mailbox.to(a.email)) == 1
    assert len(mailbox.to(b.email)) == 1


def test_works_on_the_demo_data(mailbox: RefusingMailbox) -> None:
    with time_machine.travel(BEFORE_SEND_TIME, tick=False):
        call_command("seed_demo", stdout=StringIO())
        # The reports of the demo couples' last week (seed_demo computes them once it
        # generates history; written here so this test does not depend on that).
        for couple in Couple.objects.all():
            partners = Membership.objects.filter(couple=couple, role="partner", left_at=None)
            week = last_completed_week("UTC", BEFORE_SEND_TIME)
            if not couple.reports.filter(week_start=week).exists():
                store_report(couple, week, [figures(m.user) for m in partners])

    output = send_digests()

    demo_users = User.objects.filter(email__endswith="@demo.duet.local")
    assert demo_users.count() == 1 + 2 * len(DEMO_COUPLES)
    for user in demo_users:
        assert len(mailbox.to(user.email)) == 1
    assert f"{demo_users.count()}  sent" in output


def test_a_chunk_costs_the_same_queries_for_few_or_many_users(
    mailbox: RefusingMailbox,
) -> None:
    def queries_for(couples: int) -> int:
        ids = []
        for _ in range(couples):
            couple, a, b, _ = reported_couple(therapist=False)
            Membership.objects.filter(couple=couple).update(shares_balance=True)
            ids += [a.id, b.id]
        users = list(schedule.eligible_users().filter(id__in=ids))
        now = local(NEXT_MONDAY, 8)
        with time_machine.travel(now, tick=False), CaptureQueriesContext(connection) as ctx:
            counts = pipeline.send_digests(users, now=now)
        assert counts["sent"] == 2 * couples
        return len(ctx.captured_queries)

    # Couples, their memberships, partnerships, reports, sessions, commitments; the ledger's
    # insert and read; the chunk's claim (an UPDATE and the ids it won) and its record (one
    # UPDATE of the sent), whatever the chunk's size (issue 20). Balances shared: the partner
    # view reads the consents from the prefetched memberships.
    assert queries_for(2) == queries_for(7) == 8 + 3


def test_skipped_digests_cost_one_statement_for_the_chunk_each_with_its_reason(
    mailbox: RefusingMailbox,
) -> None:
    """Past the deadline, a partner digest whose report never came is skipped, naming its own
    couple; the chunk records every skip in one statement, however many (issue 20)."""

    def queries_for(couples: int) -> int:
        pairs = [make_couple(therapist=False, created_at=LONG_AGO) for _ in range(couples)]
        users = list(
            schedule.eligible_users().filter(id__in=[u.id for _, a, b, _ in pairs for u in (a, b)])
        )
        first = local(NEXT_MONDAY, 8)
        with time_machine.travel(first, tick=False):
            assert pipeline.send_digests(users, now=first)["waiting"] == 2 * couples
        late = first + dt.timedelta(hours=24)
        with time_machine.travel(late, tick=False), CaptureQueriesContext(connection) as ctx:
            counts = pipeline.send_digests(users, now=late)
        assert counts["skipped"] == 2 * couples
        for couple, a, b, _ in pairs:
            for partner in (a, b):
                row = DigestDelivery.objects.get(user=partner, week_start=WEEK)
                assert row.status == DigestDelivery.Status.SKIPPED
                assert row.error.startswith(f"no report of week {WEEK} for couple {couple.id} ")
        return len(ctx.captured_queries)

    assert queries_for(1) == queries_for(4)
    assert mailbox.messages == []
