"""ETag with weak `If-None-Match` on details, lists, `/me/` and `/reports/current/`, and gzip for
JSON bodies over 1 KB (SPEC section 3)."""

from __future__ import annotations

import gzip
import json

import pytest
from rest_framework.test import APIClient

from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory


@pytest.fixture
def partner(world: World, client_for: ClientFor) -> APIClient:
    return client_for(world.partner)


def _paths(world: World) -> list[str]:
    return [
        "/api/v1/couples/",
        f"/api/v1/couples/{world.couple.pk}/",
        "/api/v1/me/",
        f"/api/v1/reports/current/?couple={world.couple.pk}",
        f"/api/v1/checkins/?couple={world.couple.pk}",
    ]


def test_every_read_carries_an_etag_and_answers_304_when_it_matches(
    world: World, partner: APIClient
) -> None:
    for path in _paths(world):
        first = partner.get(path)
        assert first.status_code == 200, path
        etag = first["ETag"]
        assert etag.startswith('"'), path
        again = partner.get(path, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304, path
        assert again["ETag"] == etag
        assert again.content == b""
        assert again["Cache-Control"] == "no-store"


def test_a_weak_if_none_match_matches_too(world: World, partner: APIClient) -> None:
    for path in _paths(world):
        etag = partner.get(path)["ETag"]
        response = partner.get(path, HTTP_IF_NONE_MATCH=f'"other", W/{etag}')
        assert response.status_code == 304, path


def test_a_stale_tag_gets_the_new_body(world: World, partner: APIClient) -> None:
    path = f"/api/v1/checkins/?couple={world.couple.pk}"
    etag = partner.get(path)["ETag"]
    CheckInFactory.create(couple=world.couple, author=world.partner)
    response = partner.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert len(response.json()["results"]) == 1


def test_the_list_tag_covers_the_page(world: World, partner: APIClient) -> None:
    for _ in range(3):
        CommitmentFactory.create(couple=world.couple, owner=world.partner)
    first = partner.get("/api/v1/commitments/?page_size=2")
    second = partner.get(first.json()["next"])
    assert first["ETag"] != second["ETag"]


def test_writes_carry_no_etag_and_ignore_if_none_match(world: World, partner: APIClient) -> None:
    etag = partner.get("/api/v1/me/")["ETag"]
    response = partner.patch(
        "/api/v1/me/", {"display_name": "New"}, format="json", HTTP_IF_NONE_MATCH=etag
    )
    assert response.status_code == 200
    assert "ETag" not in response


@pytest.mark.django_db
def test_a_json_body_over_1_kb_is_gzipped_for_clients_that_accept_it(
    world: World, partner: APIClient
) -> None:
    for index in range(12):
        CommitmentFactory.create(
            couple=world.couple, owner=world.partner, title=f"Walk together {index}"
        )
    plain = partner.get("/api/v1/commitments/")
    assert len(plain.content) > 1024
    assert "Content-Encoding" not in plain

    compressed = partner.get("/api/v1/commitments/", HTTP_ACCEPT_ENCODING="gzip")
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    assert json.loads(gzip.decompress(compressed.content)) == plain.json()
    # The tag is weakened by compression and still matches, weak or strong.
    assert compressed["ETag"] == f"W/{plain['ETag']}"
    revalidated = partner.get(
        "/api/v1/commitments/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=compressed["ETag"]
    )
    assert revalidated.status_code == 304


def test_a_small_body_is_sent_as_is(world: World, partner: APIClient) -> None:
    response = partner.get("/api/v1/me/", HTTP_ACCEPT_ENCODING="gzip")
    assert len(response.content) < 1024
    assert "Content-Encoding" not in response


@pytest.mark.django_db
def test_token_pairs_are_never_compressed(api_client: APIClient) -> None:
    from tests.factories import UserFactory

    UserFactory.create(email="ana@example.com", password="a long enough password 1")
    response = api_client.post(
        "/api/v1/auth/token/",
        {"email": "ana@example.com", "password": "a long enough password 1"},
        format="json",
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert response.status_code == 200
    assert "Content-Encoding" not in response


def test_the_schema_is_compressed(world: World, partner: APIClient) -> None:
    response = partner.get("/api/v1/schema/?format=json", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
