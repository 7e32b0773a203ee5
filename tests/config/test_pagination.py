"""The paginator reads a cursor's position as a value of what the list is ordered by, wherever
that comes from: a column, a related row's column or an annotation (SPEC section 3:
a forged cursor is 400 `invalid_cursor`, never a 500)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db.models import F
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.api.pagination import CursorPagination
from engagement.models import Membership
from tests.factories import make_couple

pytestmark = pytest.mark.django_db


class _View:
    def __init__(self, ordering: tuple[str, ...]) -> None:
        self.list_ordering = ordering


def paginate(queryset: Any, ordering: tuple[str, ...], position: str) -> list[Any] | None:
    cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()
    request = Request(APIRequestFactory().get("/", {"cursor": cursor}))
    return CursorPagination().paginate_queryset(queryset, request, view=_View(ordering))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("queryset", "ordering"),
    [
        (Membership.objects.all(), ("-joined_at", "id")),
        (Membership.objects.all(), ("user__date_joined", "id")),
        (Membership.objects.annotate(since=F("couple__created_at")), ("since", "id")),
    ],
    ids=["column", "related-column", "annotation"],
)
def test_a_position_that_is_no_timestamp_is_refused_wherever_the_order_comes_from(
    queryset: Any, ordering: tuple[str, ...]
) -> None:
    make_couple()

    with pytest.raises(ValidationError) as refused:
        paginate(queryset, ordering, "zz")

    assert refused.value.get_codes() == {"cursor": ["invalid_cursor"]}


def test_a_well_formed_position_pages_on() -> None:
    make_couple()

    page = paginate(
        Membership.objects.all(), ("user__date_joined", "id"), "2000-01-01 00:00:00+00:00"
    )

    assert page is not None
    assert len(page) == 3
