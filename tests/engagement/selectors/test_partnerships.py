"""Partnerships: who was a couple's pair of partners when (SPEC v1.1 section 1)."""

from __future__ import annotations

import datetime as dt
import uuid

from engagement.selectors.partnerships import Partnership
from engagement.selectors.partnerships import PartnerSpan
from engagement.selectors.partnerships import date_bounds
from engagement.selectors.partnerships import date_in
from engagement.selectors.partnerships import partnerships_of
from engagement.selectors.partnerships import shared_partnerships
from engagement.selectors.partnerships import week_readable

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
UTC = dt.UTC


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def test_first_two_partners_form_one_partnership_reaching_back_before_creation() -> None:
    spans = [PartnerSpan(A, at(2), None), PartnerSpan(B, at(5), None)]
    assert partnerships_of(spans) == [Partnership(None, None, frozenset({A, B}))]


def test_a_leave_ends_the_partnership_and_a_later_join_begins_another() -> None:
    spans = [
        PartnerSpan(A, at(2), None),
        PartnerSpan(B, at(3), at(10)),
        PartnerSpan(C, at(12), None),
    ]
    assert partnerships_of(spans) == [
        Partnership(None, at(10), frozenset({A, B})),
        Partnership(at(10), at(12), frozenset({A})),
        Partnership(at(12), None, frozenset({A, C})),
    ]


def test_newcomer_shares_no_partnership_with_the_former_partner() -> None:
    spans = [
        PartnerSpan(A, at(2), None),
        PartnerSpan(B, at(3), at(10)),
        PartnerSpan(C, at(12), None),
    ]
    found = partnerships_of(spans)
    assert shared_partnerships(found, C, B) == []
    assert shared_partnerships(found, C, A) == [Partnership(at(12), None, frozenset({A, C}))]


def test_a_rejoining_partner_starts_a_new_partnership() -> None:
    spans = [
        PartnerSpan(A, at(2), None),
        PartnerSpan(B, at(3), at(10)),
        PartnerSpan(B, at(11), None),
    ]
    assert [p.partners for p in partnerships_of(spans)] == [
        frozenset({A, B}),
        frozenset({A}),
        frozenset({A, B}),
    ]


def test_no_partners_no_partnerships() -> None:
    assert partnerships_of([]) == []


def test_a_day_belongs_to_the_partnership_in_force_when_it_begins_locally() -> None:
    # C joins at 15:00 UTC on the 12th, which is already the 13th 04:00 in Auckland (UTC+13).
    joined = at(12, 15)
    partnership = Partnership(joined, None, frozenset({A, C}))
    assert date_bounds(partnership, "UTC") == (dt.date(2026, 11, 13), None)
    assert date_bounds(partnership, "Pacific/Auckland") == (dt.date(2026, 11, 14), None)
    assert not date_in([partnership], dt.date(2026, 11, 12), "UTC")
    assert date_in([partnership], dt.date(2026, 11, 13), "UTC")


def test_a_week_across_a_change_of_partners_is_readable_by_nobody_but_the_therapist() -> None:
    spans = [
        PartnerSpan(A, at(2), None),
        PartnerSpan(B, at(3), at(18)),  # B leaves on Wednesday 18 November
    ]
    found = partnerships_of(spans)
    monday = dt.date(2026, 11, 16)
    assert not week_readable(found, A, monday, "UTC")
    assert not week_readable(found, B, monday, "UTC")
    assert week_readable(found, A, dt.date(2026, 11, 9), "UTC")
    assert week_readable(found, B, dt.date(2026, 10, 5), "UTC")  # before creation: first pair
    assert week_readable(found, A, dt.date(2026, 11, 23), "UTC")  # A alone afterwards
    assert not week_readable(found, B, dt.date(2026, 11, 23), "UTC")
