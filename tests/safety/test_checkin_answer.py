"""`afraid_or_hurt` on a check-in PUT: write-only, and invisible to everyone but as an alert.

The attack first: the other partner may be the one the answer is about, and reads everything
the app shows. Changing only the answer must move nothing they can observe (the row, its
timestamps, the list's ETag, `updated_since`, removals), whatever the visibility.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from engagement.models import CheckIn
from engagement.models import Couple
from engagement.models import SafetyAlert
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import make_couple

pytestmark = pytest.mark.django_db


def _day() -> dt.date:
    return timezone.now().date()


def _put(client: APIClient, couple: Couple, day: dt.date, **fields: Any) -> Any:
    body = {"couple": str(couple.pk), "visibility": "couple", "mood": 3, **fields}
    return client.put(f"/api/v1/checkins/{day}/", body, format="json")


def _observed(client: APIClient, couple: Couple, since: dt.datetime) -> dict[str, Any]:
    """What a reader can observe of the couple's check-ins: the list with its ETag, the sync
    feed since a moment, and their removals."""
    listing = client.get("/api/v1/checkins/", {"couple": str(couple.pk)})
    synced = client.get(
        "/api/v1/checkins/", {"couple": str(couple.pk), "updated_since": since.isoformat()}
    )
    removals = client.get("/api/v1/removals/", {"since": since.isoformat()})
    return {
        "list": listing.json(),
        "etag": listing["ETag"],
        "sync": synced.json(),
        "sync_etag": synced["ETag"],
        "removals": removals.json(),
    }


@pytest.mark.parametrize("visibility", ["couple", "therapist", "private"])
@pytest.mark.parametrize("answer", [True, False])
def test_changing_only_the_answer_moves_nothing_anyone_reads(
    world: World, client_for: ClientFor, visibility: str, answer: bool
) -> None:
    day = _day()
    author = client_for(world.partner)
    assert _put(author, world.couple, day, visibility=visibility).status_code == 201
    # Written a while ago: a moved clock would show.
    earlier = timezone.now() - dt.timedelta(minutes=30)
    CheckIn.objects.update(
        created_at=earlier,
        updated_at=earlier,
        shared_at=earlier if visibility == "couple" else None,
    )
    start = earlier - dt.timedelta(minutes=1)
    readers = {
        name: client_for(getattr(world, name)) for name in ("partner", "other_partner", "therapist")
    }
    before = {name: _observed(client, world.couple, start) for name, client in readers.items()}
    row_before = CheckIn.objects.values().get(author=world.partner)

    answered = _put(author, world.couple, day, visibility=visibility, afraid_or_hurt=answer)

    assert answered.status_code == 200
    after = {name: _observed(client, world.couple, start) for name, client in readers.items()}
    assert after == before
    row_after = CheckIn.objects.values().get(author=world.partner)
    assert row_after["afraid_or_hurt"] is answer
    assert {k: v for k, v in row_after.items() if k != "afraid_or_hurt"} == {
        k: v for k, v in row_before.items() if k != "afraid_or_hurt"
    }


def test_no_read_returns_the_answer_not_even_to_its_author(
    world: World, client_for: ClientFor
) -> None:
    author = client_for(world.partner)
    answered = _put(author, world.couple, _day(), afraid_or_hurt=True)
    assert answered.status_code == 201
    assert "afraid_or_hurt" not in answered.json()
    own = author.get(f"/api/v1/checkins/{_day()}/", {"couple": str(world.couple.pk)})
    assert "afraid_or_hurt" not in own.json()
    for user in (world.partner, world.other_partner, world.therapist):
        listing = client_for(user).get("/api/v1/checkins/").json()
        for row in listing["results"]:
            assert "afraid_or_hurt" not in row


def test_the_put_answering_true_carries_the_safety_resources_in_the_callers_language(
    world: World, client_for: ClientFor, settings: Any
) -> None:
    author = client_for(world.partner)
    answered = _put(author, world.couple, _day(), afraid_or_hurt=True)
    assert answered.json()["safety_resources"] == settings.SAFETY_RESOURCES["en"]
    spanish = author.put(
        f"/api/v1/checkins/{_day()}/",
        {"couple": str(world.couple.pk), "visibility": "couple", "mood": 3, "afraid_or_hurt": True},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert spanish.json()["safety_resources"] == settings.SAFETY_RESOURCES["es"]
    assert spanish.json()["safety_resources"][0]["name"] == "Servicios de emergencia"


@pytest.mark.parametrize("answer", [False, None, "absent"])
def test_any_other_put_answers_an_empty_list_of_resources(
    world: World, client_for: ClientFor, answer: Any
) -> None:
    fields = {} if answer == "absent" else {"afraid_or_hurt": answer}
    answered = _put(client_for(world.partner), world.couple, _day(), **fields)
    assert answered.status_code == 201
    assert answered.json()["safety_resources"] == []


@pytest.mark.parametrize("bad", ["yes", 1, "true", [True]])
def test_an_answer_that_is_not_a_boolean_is_a_400_naming_it_and_writes_nothing(
    world: World, client_for: ClientFor, bad: Any
) -> None:
    answered = _put(client_for(world.partner), world.couple, _day(), afraid_or_hurt=bad)
    assert answered.status_code == 400
    assert [e["attr"] for e in answered.json()["errors"]] == ["afraid_or_hurt"]
    assert not CheckIn.objects.exists()
    assert not SafetyAlert.objects.exists()


def test_a_put_leaving_the_answer_out_keeps_it_since_no_app_can_read_it_back(
    world: World, client_for: ClientFor
) -> None:
    author = client_for(world.partner)
    _put(author, world.couple, _day(), afraid_or_hurt=True)
    assert _put(author, world.couple, _day(), mood=4).status_code == 200
    assert CheckIn.objects.get().afraid_or_hurt is True
    alert = SafetyAlert.objects.get()
    assert alert.retracted_at is None


def test_a_retried_put_raises_no_second_alert(world: World, client_for: ClientFor) -> None:
    author = client_for(world.partner)
    for _ in range(3):
        _put(author, world.couple, _day(), afraid_or_hurt=True)
    assert SafetyAlert.objects.count() == 1


def test_meta_serves_the_resources_in_the_requests_language(api_client: APIClient) -> None:
    english = api_client.get("/api/v1/meta/").json()["safety_resources"]
    spanish = api_client.get("/api/v1/meta/", HTTP_ACCEPT_LANGUAGE="es").json()["safety_resources"]
    assert english[0]["name"] == "Emergency services"
    assert "emergency number" in english[0]["text"]
    assert spanish[0]["name"] == "Servicios de emergencia"


def test_meta_serves_configured_resources_falling_back_to_the_first_language(
    api_client: APIClient, settings: Any
) -> None:
    settings.SAFETY_RESOURCES = {"en": [{"name": "Hotline", "phone": "+1 800 000 0000"}]}
    spanish = api_client.get("/api/v1/meta/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert spanish["safety_resources"] == [{"name": "Hotline", "phone": "+1 800 000 0000"}]


def test_an_answer_in_a_couple_without_a_therapist_stays_with_its_author(
    client_for: ClientFor,
) -> None:
    couple, a, _, _ = make_couple(therapist=False)
    answered = _put(client_for(a), couple, _day(), afraid_or_hurt=True)
    assert answered.status_code == 201
    # The resources still come: the author may be in danger whoever else is told.
    assert answered.json()["safety_resources"]
    assert not SafetyAlert.objects.exists()
