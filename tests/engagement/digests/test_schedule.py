"""Each user gets their digest at their own weekday and hour, in their own timezone, once."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import User
from engagement.digests import schedule
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.builders import send_digests_at
from tests.engagement.digests.conftest import RefusingMailbox


def test_send_time_is_the_users_weekday_and_hour_in_the_week_after() -> None:
    user = User(timezone="America/Los_Angeles", digest_weekday=4, digest_hour=18)

    assert schedule.send_time(WEEK, user) == local(
        NEXT_MONDAY + dt.timedelta(days=4), 18, "America/Los_Angeles"
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(NEXT_MONDAY, 7, "Pacific/Auckland", 59), WEEK - dt.timedelta(weeks=1)),
        (local(NEXT_MONDAY, 8, "Pacific/Auckland"), WEEK),
        (local(NEXT_MONDAY + dt.timedelta(days=6), 23, "Pacific/Auckland"), WEEK),
    ],
)
def test_scheduled_week_turns_at_the_send_time(now: dt.datetime, expected: dt.date) -> None:
    user = User(timezone="Pacific/Auckland", digest_weekday=0, digest_hour=8)

    assert schedule.scheduled_week(now, user) == expected


@pytest.mark.django_db
def test_recipients_get_theirs_at_their_local_hour_exactly_once(
    mailbox: RefusingMailbox,
) -> None:
    _, kiwi, _, _ = reported_couple("Pacific/Auckland", therapist=False)
    _, angeleno, _, _ = reported_couple("America/Los_Angeles", therapist=False)
    User.objects.filter(pk__in=[kiwi.pk, angeleno.pk]).update(digest_hour=8)
    User.objects.filter(pk=kiwi.pk).update(timezone="Pacific/Auckland")
    User.objects.filter(pk=angeleno.pk).update(timezone="America/Los_Angeles")
    User.objects.exclude(pk__in=[kiwi.pk, angeleno.pk]).update(weekly_digest=False)

    first_seen: dict[str, dt.datetime] = {}
    # The beat's quarter hours, from Sunday morning UTC to Tuesday morning UTC.
    at = dt.datetime(2026, 2, 8, 0, 0, tzinfo=dt.UTC)
    while at < dt.datetime(2026, 2, 10, 12, 0, tzinfo=dt.UTC):
        send_digests_at(at)
        for user in (kiwi, angeleno):
            if mailbox.to(user.email) and user.email not in first_seen:
                first_seen[user.email] = at
        at += dt.timedelta(minutes=15)

    assert first_seen[kiwi.email] == local(NEXT_MONDAY, 8, "Pacific/Auckland")
    assert first_seen[angeleno.email] == local(NEXT_MONDAY, 8, "America/Los_Angeles")
    assert len(mailbox.to(kiwi.email)) == 1
    assert len(mailbox.to(angeleno.email)) == 1


@pytest.mark.django_db
def test_a_chosen_weekday_and_hour_are_kept(mailbox: RefusingMailbox) -> None:
    _, a, b, _ = reported_couple("Europe/Berlin", therapist=False)
    User.objects.filter(pk=a.pk).update(timezone="Europe/Berlin", digest_weekday=2, digest_hour=19)
    User.objects.filter(pk=b.pk).update(weekly_digest=False)
    wednesday = NEXT_MONDAY + dt.timedelta(days=2)

    for at in (local(wednesday, 18, "Europe/Berlin", 45), local(wednesday, 19, "Europe/Berlin")):
        send_digests_at(at)
        sent = len(mailbox.to(a.email))
        assert sent == (1 if at.hour == 19 else 0)


@pytest.mark.django_db
def test_a_digest_not_sent_within_its_window_is_not_sent_days_later(
    mailbox: RefusingMailbox,
) -> None:
    # The beat was down on Monday: by Thursday the week's digest is no longer news. Operators
    # can still send it with `manage.py send_digests`.
    _, a, _, _ = reported_couple(therapist=False)

    send_digests_at(local(NEXT_MONDAY + dt.timedelta(days=3), 9))

    assert mailbox.to(a.email) == []
