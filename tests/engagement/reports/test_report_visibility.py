"""Which weekly reports a partner may read (SPEC 1 "Membership periods", SPEC 5): weeks lying
entirely in a partnership of theirs, and weeks before the couple's creation week only from the
earliest one holding a record they may read. Therapists read them all."""

from __future__ import annotations

import datetime as dt
from uuid import uuid4

import pytest
import time_machine
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from accounts.models import User
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.reports.pipeline import compute_reports
from engagement.selectors.partnerships import Partnership
from engagement.selectors.partnerships import week_readable
from engagement.selectors.reports import readable_week_range
from tests.conftest import ClientFor
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import couple_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CREATED = dt.datetime(2026, 11, 18, 10, tzinfo=UTC)  # Wednesday of week 11-16
NOW = dt.datetime(2026, 12, 14, 12, tzinfo=UTC)


def weeks(*mondays: str) -> list[str]:
    return list(mondays)


def listed(client_for: ClientFor, user: User) -> list[str]:
    with time_machine.travel(NOW, tick=False):
        body = client_for(user).get("/api/v1/reports/", {"page_size": 100}).json()
    return sorted(r["week_start"] for r in body["results"])


def compute(couple_id: object, *mondays: str) -> None:
    compute_reports(
        {couple_id: [dt.date.fromisoformat(m) for m in mondays]},  # type: ignore[dict-item]
        now=NOW,
    )


def test_a_hidden_record_before_creation_never_makes_a_report_appear_to_the_other_partner(
    client_for: ClientFor,
) -> None:
    # B back-dates a private check-in two weeks before the couple was created: the reports
    # of those weeks exist (the therapist reads them), and A, who cannot read that check-in,
    # does not learn of it from a report appearing.
    couple, a, b, therapist = couple_in(created_at=CREATED)
    checkin(couple, b, dt.date(2026, 11, 3), "private")
    compute(couple.pk, "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23")

    assert WeeklyReport.objects.count() == 4
    assert listed(client_for, therapist) == weeks(
        "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"
    )
    assert listed(client_for, b) == weeks("2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23")
    assert listed(client_for, a) == weeks("2026-11-16", "2026-11-23")
    # The export holds the reports as A reads them in the app, and no others.
    with time_machine.travel(NOW, tick=False):
        exported = client_for(a).get("/api/v1/me/export/").json()["reports"]
    assert [r["week_start"] for r in exported] == ["2026-11-16", "2026-11-23"]
    assert all(r["view"] == "partner" for r in exported)


def test_a_shared_record_before_creation_opens_the_weeks_from_it(client_for: ClientFor) -> None:
    couple, a, b, _ = couple_in(created_at=CREATED)
    checkin(couple, b, dt.date(2026, 11, 3), "private")
    checkin(couple, b, dt.date(2026, 11, 10), "couple")
    compute(couple.pk, "2026-11-02", "2026-11-09", "2026-11-16")

    assert listed(client_for, a) == weeks("2026-11-09", "2026-11-16")


def test_a_newcomer_never_reads_weeks_before_they_came_nor_the_week_they_came_in(
    client_for: ClientFor,
) -> None:
    couple, a, former, therapist = couple_in(created_at=CREATED)
    left = dt.datetime(2026, 11, 25, 12, tzinfo=UTC)  # Wednesday of week 11-23
    Membership.objects.filter(couple=couple, user=former).update(left_at=left, partner_slot=None)
    newcomer = UserFactory.create()
    Membership.objects.create(
        couple=couple, user=newcomer, role="partner", partner_slot=2, joined_at=left
    )
    compute(couple.pk, "2026-11-16", "2026-11-23", "2026-11-30")

    assert listed(client_for, therapist) == weeks("2026-11-16", "2026-11-23", "2026-11-30")
    # The week across the change of partners is the therapist's alone.
    assert listed(client_for, a) == weeks("2026-11-16", "2026-11-30")
    assert listed(client_for, newcomer) == weeks("2026-11-30")
    # A week of the former partnership: A reads it, without a balance (the former partner is
    # no longer active), though both consented.
    Membership.objects.filter(couple=couple).update(shares_balance=True)
    type(couple).objects.filter(pk=couple.pk).update(partners_see_balance=True)
    report = WeeklyReport.objects.get(week_start=dt.date(2026, 11, 16))
    with time_machine.travel(NOW, tick=False):
        body = client_for(a).get(f"/api/v1/reports/{report.pk}/").json()
        assert body["balance"] is None
        assert client_for(newcomer).get(f"/api/v1/reports/{report.pk}/").status_code == 404


MOMENTS = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)


@settings(deadline=None, max_examples=300)
@given(
    start=st.one_of(st.none(), MOMENTS),
    length=st.timedeltas(min_value=dt.timedelta(hours=1), max_value=dt.timedelta(days=60)),
    open_ended=st.booleans(),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland"]),
    week_offset=st.integers(-12, 12),
)
def test_the_readable_week_range_is_exactly_the_weeks_week_readable_accepts(
    start: dt.datetime | None,
    length: dt.timedelta,
    open_ended: bool,
    zone: str,
    week_offset: int,
) -> None:
    viewer = uuid4()
    base = start or dt.datetime(2026, 6, 1, tzinfo=UTC)
    end = None if open_ended else base + length
    partnership = Partnership(start, end, frozenset({viewer}))
    monday = (base.date() - dt.timedelta(days=base.weekday())) + dt.timedelta(weeks=week_offset)

    first, last = readable_week_range(partnership, zone)
    in_range = (first is None or monday >= first) and (last is None or monday <= last)

    assert in_range == week_readable([partnership], viewer, monday, zone)
