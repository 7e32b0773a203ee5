"""A read compiled once (engagement/selectors/compiled.py) gives exactly the rows, types and
order of its queryset, for every user; a query whose SQL depends on its ids is never compiled
once."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any
from uuid import UUID
from uuid import uuid4

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from engagement.models import Membership
from engagement.selectors.compiled import CompiledRead
from engagement.selectors.compiled import CompiledShapes
from engagement.selectors.visibility import _reach_rows
from engagement.selectors.visibility import reach_of
from tests.factories import UserFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db


def _typed(rows: list[tuple[Any, ...]]) -> list[tuple[tuple[type, Any], ...]]:
    return [tuple((type(value), value) for value in row) for row in rows]


def test_the_reach_read_once_compiled_is_the_querysets_for_every_user() -> None:
    couple, leaver, remaining, therapist = make_couple()
    assert therapist is not None
    make_couple(therapist=therapist)  # the therapist reads two couples
    Membership.objects.filter(user=leaver).update(left_at=timezone.now() - dt.timedelta(days=1))
    newcomer = UserFactory.create()
    Membership.objects.create(couple=couple, user=newcomer, role="partner", partner_slot=1)
    nobody = UserFactory.create()
    users: list[User] = [leaver, remaining, therapist, newcomer, nobody]
    read = CompiledRead(_reach_rows)
    for user in users:
        assert _typed(read.rows(user.pk)) == _typed(list(_reach_rows(user.pk)))
    assert read.rows(uuid4()) == []
    # reach_of reads through its own compiled read: the same reach as before.
    assert reach_of(remaining).partner_of[couple.pk][0][-1].partners == {remaining.pk, newcomer.pk}
    assert reach_of(therapist).therapist_of == set(
        Membership.objects.filter(user=therapist).values_list("couple_id", flat=True)
    )


def test_a_query_whose_sql_depends_on_its_ids_is_refused() -> None:
    calls = itertools.count()

    def build(user_id: UUID) -> QuerySet[Membership, Any]:
        # A different statement on the second compile: the ids would change the SQL.
        field = "user" if next(calls) == 0 else "couple"
        return Membership.objects.filter(**{field: user_id}).values_list("id")

    with pytest.raises(ValueError, match="depends on the values"):
        CompiledRead(build).rows(uuid4())


def _clock_in_the_filter(user_id: UUID) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(user=user_id, joined_at__lte=timezone.now()).values_list("id")


def _clock_in_a_subquery(user_id: UUID) -> QuerySet[Membership, Any]:
    today = timezone.localdate()
    recent = Membership.objects.filter(user=user_id, joined_at__date__gte=today).values("couple_id")
    return Membership.objects.filter(couple_id__in=recent).values_list("id")


@pytest.mark.parametrize("build", [_clock_in_the_filter, _clock_in_a_subquery])
def test_a_query_holding_a_date_or_time_is_refused(
    build: Callable[[UUID], QuerySet[Membership, Any]],
) -> None:
    """A "now" compiled once would stay at the first request's now for the process's life."""
    with pytest.raises(ValueError, match="date or a time"):
        CompiledRead(build).rows(uuid4())


def _joined_since(shape: Any) -> Callable[..., QuerySet[Membership, Any]]:
    def build(user_id: UUID, day: dt.date) -> QuerySet[Membership, Any]:
        joined = Membership.objects.filter(user=user_id, joined_at__date__gte=day)
        if shape == "and a clock":
            joined = joined.filter(joined_at__lte=timezone.now())
        return joined.values_list("couple_id")

    return build


def test_a_read_compiled_per_shape_binds_its_dates_and_refuses_a_clock() -> None:
    """Dates given as values are the query's parameters, filled in each call (a page of
    check-ins between partnership bounds); a date of the query's own is still refused."""
    couple, partner, _, _ = make_couple(joined_at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    shapes = CompiledShapes(_joined_since)
    for day, expected in ((dt.date(2026, 3, 10), [(couple.pk,)]), (dt.date(2026, 3, 11), [])):
        assert shapes.rows("plain", [partner.pk, day]) == expected
        assert list(_joined_since("plain")(partner.pk, day)) == expected
    with pytest.raises(ValueError, match="date or a time"):
        shapes.rows("and a clock", [partner.pk, dt.date(2026, 3, 10)])
