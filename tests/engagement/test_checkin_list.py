"""The check-in list, read from rows (issue 20), answers byte for byte what DRF's generic list
over model instances and CheckInSerializer answered, for every reader, filter, order and page;
and each of the caller's own items is what the detail endpoint answers for it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
import time_machine
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.test import APIRequestFactory

from accounts.authentication import issue_tokens
from accounts.models import User
from engagement.api.checkins import CheckInViewSet
from engagement.api.conditional import conditional
from engagement.models import Couple
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]
CHECKINS = "/api/v1/checkins/"
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


class _ModelListViewSet(CheckInViewSet):
    """The check-in list as DRF's generic list builds it: model instances, the serializer."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return conditional(request, mixins.ListModelMixin.list(self, request, *args, **kwargs))


def _by_model_instances(user: User, params: dict[str, Any]) -> tuple[int, bytes, str | None]:
    request = APIRequestFactory().get(
        CHECKINS, params, HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}"
    )
    response = _ModelListViewSet.as_view({"get": "list"})(request)
    response.render()
    return response.status_code, response.content, response.get("ETag")


def _from_rows(client: APIClient, params: dict[str, Any]) -> tuple[int, bytes, str | None]:
    response = client.get(CHECKINS, params)
    return response.status_code, response.content, response.get("ETag")


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def _put(client: APIClient, couple: Couple, day: dt.date, visibility: str, **fields: Any) -> None:
    body = {"couple": str(couple.pk), "visibility": visibility, "mood": 3, **fields}
    response = client.put(f"{CHECKINS}{day.isoformat()}/", body, format="json")
    assert response.status_code in (200, 201), response.content


@pytest.fixture
def readers(client_for: ClientFor, clock: time_machine.Traveller) -> dict[str, User]:
    """Two couples' check-ins of every visibility over two partnerships of one couple: its
    first partners (one of whom leaves), a newcomer, its therapist and an outsider; one check-in
    widened after it was written (the other partner reads it as created when it was shared)."""
    couple, leaver, remaining, therapist = make_couple()
    other_couple, outsider, outsiders_partner, _ = make_couple()
    assert therapist is not None
    today = MONDAY.date()
    for n, visibility in enumerate(["couple", "therapist", "private", "couple", "couple"]):
        _put(client_for(leaver), couple, today - dt.timedelta(n), visibility, effort=n % 5 + 1)
        _put(client_for(remaining), couple, today - dt.timedelta(n), visibility, note=f"n{n}")
    _put(client_for(outsider), other_couple, today, "couple")
    _put(client_for(outsiders_partner), other_couple, today, "therapist")
    clock.move_to(MONDAY + dt.timedelta(hours=5))
    _put(client_for(remaining), couple, today - dt.timedelta(2), "couple", note="widened")
    clock.move_to(MONDAY + dt.timedelta(days=1))
    response = client_for(leaver).post(f"/api/v1/couples/{couple.pk}/leave/")
    assert response.status_code == 204
    clock.move_to(MONDAY + dt.timedelta(days=2))
    newcomer = UserFactory.create()
    _, token = make_invitation(couple=couple, invited_by=therapist, email=newcomer.email)
    accepted = client_for(newcomer).post(
        "/api/v1/invitations/accept/", {"token": token}, format="json"
    )
    assert accepted.status_code == 200, accepted.content
    day = MONDAY.date() + dt.timedelta(days=2)
    _put(client_for(newcomer), couple, day, "couple")
    _put(client_for(remaining), couple, day, "couple", note="to the newcomer")
    _put(client_for(remaining), couple, day + dt.timedelta(1), "private")
    return {
        "leaver": leaver,
        "remaining": remaining,
        "newcomer": newcomer,
        "therapist": therapist,
        "outsider": outsider,
    }


def _queries(readers: dict[str, User]) -> list[dict[str, Any]]:
    author = readers["remaining"]
    couple_id = str(author.memberships.get().couple_id)
    return [
        {},
        {"couple": couple_id},
        {"couple": couple_id, "page_size": "2"},
        {"page_size": "1"},
        {"author": str(author.pk)},
        {"date_after": "2026-10-31", "date_before": "2026-11-03"},
        {"updated_since": "2000-01-01T00:00:00Z"},
        {"updated_since": "2026-11-02T12:00:00Z", "page_size": "2"},
        {"couple": "not-a-uuid"},
        {"couple": ""},
        {"page_size": "0"},
        {"cursor": "bm90LWEtY3Vyc29y"},
    ]


@pytest.mark.parametrize("reader", ["leaver", "remaining", "newcomer", "therapist", "outsider"])
def test_every_page_of_the_list_is_what_model_instances_gave(
    readers: dict[str, User], client_for: ClientFor, reader: str
) -> None:
    user = readers[reader]
    client = client_for(user)
    for first in _queries(readers):
        # Every page the answers link to, forwards and backwards.
        todo, seen = [first], set()
        while todo:
            query = todo.pop()
            seen.add(tuple(sorted(query.items())))
            expected = _by_model_instances(user, query)
            answer = _from_rows(client, query)
            assert answer == expected, (reader, query)
            todo += [q for q in _linked(answer) if tuple(sorted(q.items())) not in seen]
        assert len(seen) < 30


def _linked(answer: tuple[int, bytes, str | None]) -> list[dict[str, str]]:
    """The queries of the pages an answer links to (`next`, `previous`)."""
    status, body, _ = answer
    if status != 200:
        return []
    page = json.loads(body)
    links = [page["next"], page["previous"]]
    return [dict(parse_qsl(urlsplit(link).query)) for link in links if link is not None]


@pytest.mark.parametrize("reader", ["remaining", "newcomer"])
def test_each_of_the_callers_own_items_is_what_the_detail_answers(
    readers: dict[str, User], client_for: ClientFor, reader: str
) -> None:
    user = readers[reader]
    client = client_for(user)
    own = [row for row in client.get(CHECKINS).json()["results"] if row["author"] == str(user.pk)]
    assert own
    for row in own:
        detail = client.get(f"{CHECKINS}{row['date']}/", {"couple": row["couple"]})
        assert detail.status_code == 200
        assert detail.json() == row
