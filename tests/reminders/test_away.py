"""Check-in reminders and away periods (SPEC section 6): a user away today in that couple is
not reminded; a push counts any away period of the user, an email only their `couple` ones,
and so does the back-off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core import mail

from accounts.models import User
from engagement.models import AwayPeriod
from engagement.models import Couple
from engagement.models import ReminderDelivery
from tests.factories import make_couple
from tests.reminders.test_reminders import AT_20
from tests.reminders.test_reminders import DAY
from tests.reminders.test_reminders import _at
from tests.reminders.test_reminders import _days
from tests.reminders.test_reminders import _device
from tests.reminders.test_reminders import _pushes_to
from tests.reminders.test_reminders import _run

pytestmark = pytest.mark.django_db


def _away(couple: Couple, user: User, first: int, last: int, visibility: str) -> AwayPeriod:
    return AwayPeriod.objects.create(
        couple=couple,
        partner=user,
        starts_on=DAY + dt.timedelta(days=first),
        ends_on=DAY + dt.timedelta(days=last),
        visibility=visibility,
    )


@pytest.fixture
def couple() -> tuple[Couple, User, User]:
    with _at(AT_20 - dt.timedelta(days=30)):
        c, partner, other, _ = make_couple()
    return c, partner, other


@pytest.mark.parametrize("visibility", ["couple", "therapist"])
def test_no_push_on_a_day_away_whatever_its_visibility(
    couple: tuple[Couple, User, User], push_folder: Path, visibility: str
) -> None:
    c, user, _ = couple
    _device(user)
    _away(c, user, -1, 0, visibility)
    with _at(AT_20):
        _run()
    assert _pushes_to(push_folder, user) == []
    assert not ReminderDelivery.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("whose", "in_couple", "first", "last", "visibility"),
    [
        pytest.param("own", True, -3, -1, "therapist", id="the-day-after-the-period"),
        pytest.param("other partner's", True, 0, 0, "couple", id="the-other-partners-period"),
        pytest.param("own", False, 0, 0, "couple", id="a-period-in-another-couple"),
    ],
)
def test_a_push_still_comes_when_no_period_of_theirs_in_the_couple_covers_today(
    couple: tuple[Couple, User, User],
    push_folder: Path,
    whose: str,
    in_couple: bool,
    first: int,
    last: int,
    visibility: str,
) -> None:
    c, user, other = couple
    _device(user)
    where = c if in_couple else make_couple()[0]
    _away(where, user if whose == "own" else other, first, last, visibility)
    with _at(AT_20):
        _run()
    assert len(_pushes_to(push_folder, user)) == 1


def test_an_email_counts_only_an_away_period_shared_with_the_couple(
    couple: tuple[Couple, User, User],
) -> None:
    c, user, other = couple
    User.objects.filter(pk__in=[user.pk, other.pk]).update(reminder_email=True)
    # Whoever shares the inbox must not learn of a therapist-only away period by a missing
    # reminder; a period the couple reads anyway stops it.
    _away(c, user, 0, 2, "therapist")
    _away(c, other, 0, 2, "couple")
    with _at(AT_20):
        _run()
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_the_push_back_off_counts_days_away(couple: tuple[Couple, User, User]) -> None:
    c, user, _ = couple
    _device(user)
    assert _days(user, 0, 2) == [0, 1, 2]
    # Away (therapist-only) on days 3 and 4: no push then, and the back-off starts over.
    _away(c, user, 3, 4, "therapist")
    assert _days(user, 3, 7) == [5, 6, 7]


def test_the_email_back_off_ignores_a_therapist_only_period(
    couple: tuple[Couple, User, User],
) -> None:
    c, user, _ = couple
    User.objects.filter(pk=user.pk).update(reminder_email=True)
    assert _days(user, 0, 2) == [0, 1, 2]
    # The inbox keeps receiving what it would without the period: backed off until day 9.
    _away(c, user, 3, 4, "therapist")
    assert _days(user, 3, 9) == [9]
    # A shared period does reset it.
    _away(c, user, 10, 10, "couple")
    assert _days(user, 10, 12) == [11, 12]
