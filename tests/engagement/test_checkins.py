"""Check-ins through the API: PUT by date, who reads which, the local-date window, removals."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.serializers import ModelSerializer as DRFModelSerializer

from accounts.models import User
from engagement.api.serializers.checkins import CheckInSerializer
from engagement.models import CheckIn
from engagement.models import Couple
from engagement.models import Removal
from engagement.selectors.visibility import checkins_visible_to
from tests.conftest import ClientFor
from tests.conftest import World
from tests.errors import errors
from tests.factories import CheckInFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

CHECKINS = "/api/v1/checkins/"
SCALES = ("mood", "effort", "connection", "resentment", "wellbeing")


def _day(day: date | str) -> str:
    return f"{CHECKINS}{day}/"


def _today() -> date:
    return timezone.now().date()


def _body(couple: Couple, **fields: Any) -> dict[str, Any]:
    return {"couple": str(couple.pk), "visibility": "couple", "mood": 3, **fields}


def _checkin(world: World, author: User, visibility: str, **fields: Any) -> CheckIn:
    checkin: CheckIn = CheckInFactory.create(
        couple=world.couple, author=author, visibility=visibility, **fields
    )
    return checkin


# --- PUT: create, replace, retry ---------------------------------------------------------------


def test_a_partner_checks_in_and_a_retried_put_changes_nothing(
    world: World, client_for: ClientFor
) -> None:
    client = client_for(world.partner)
    body = _body(world.couple, effort=4, note="A good evening.", visibility="therapist")
    first = client.put(_day(_today()), body, format="json")
    assert first.status_code == 201, first.json()
    retry = client.put(_day(_today()), body, format="json")
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert CheckIn.objects.count() == 1
    created = first.json()
    assert created["author"] == str(world.partner.pk)
    assert created["date"] == str(_today())
    assert (created["mood"], created["effort"], created["connection"]) == (3, 4, None)


def test_a_put_replaces_the_whole_check_in(world: World, client_for: ClientFor) -> None:
    client = client_for(world.partner)
    client.put(_day(_today()), _body(world.couple, effort=4, note="first"), format="json")
    replaced = client.put(
        _day(_today()), _body(world.couple, mood=None, wellbeing=2), format="json"
    )
    assert replaced.status_code == 200
    body = replaced.json()
    assert (body["mood"], body["effort"], body["wellbeing"], body["note"]) == (None, None, 2, "")
    assert CheckIn.objects.count() == 1


def test_each_partner_has_their_own_check_in_for_a_day(world: World, client_for: ClientFor) -> None:
    for partner in (world.partner, world.other_partner):
        response = client_for(partner).put(_day(_today()), _body(world.couple), format="json")
        assert response.status_code == 201
    assert CheckIn.objects.filter(couple=world.couple, date=_today()).count() == 2


def test_the_same_partner_checks_in_separately_in_each_of_their_couples(
    world: World, client_for: ClientFor
) -> None:
    second, _, _, _ = make_couple(therapist=False)
    second.memberships.filter(partner_slot=1).update(user=world.partner)
    client = client_for(world.partner)
    assert client.put(_day(_today()), _body(world.couple), format="json").status_code == 201
    assert client.put(_day(_today()), _body(second), format="json").status_code == 201
    own = client.get(_day(_today()), {"couple": str(second.pk)})
    assert own.status_code == 200
    assert own.json()["couple"] == str(second.pk)


# --- bad input: the field is named and nothing is written --------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"couple": None}, [("couple", "null")], id="couple-null"),
        pytest.param({"couple": "DROP"}, [("couple", "required")], id="couple-missing"),
        pytest.param({"visibility": "DROP"}, [("visibility", "required")], id="visibility-missing"),
        pytest.param({"visibility": "public"}, [("visibility", "invalid_choice")], id="visibility"),
        pytest.param({"mood": 6}, [("mood", "max_value")], id="mood-high"),
        pytest.param({"resentment": 0}, [("resentment", "min_value")], id="resentment-low"),
        pytest.param({"effort": "a lot"}, [("effort", "invalid")], id="effort-text"),
        pytest.param({"note": "x" * 2001}, [("note", "max_length")], id="note-long"),
        pytest.param({"note": "a\x00b"}, [("note", "null_characters_not_allowed")], id="note-nul"),
        pytest.param(
            {"mood": None},
            [(scale, "at_least_one_rating") for scale in SCALES],
            id="no-rating",
        ),
    ],
)
def test_a_bad_check_in_answers_400_naming_the_field_and_writes_nothing(
    world: World, client_for: ClientFor, change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    body = _body(world.couple)
    for key, value in change.items():
        if value == "DROP":
            del body[key]
        else:
            body[key] = value
    response = client_for(world.partner).put(_day(_today()), body, format="json")
    assert response.status_code == 400, response.json()
    assert errors(response) == expected
    assert CheckIn.objects.count() == 0


def test_a_note_of_exactly_2000_characters_is_accepted(world: World, client_for: ClientFor) -> None:
    response = client_for(world.partner).put(
        _day(_today()), _body(world.couple, note="x" * 2000), format="json"
    )
    assert response.status_code == 201


def test_a_date_that_is_not_a_calendar_date_answers_400(
    world: World, client_for: ClientFor
) -> None:
    response = client_for(world.partner).put(_day("2026-02-30"), _body(world.couple), format="json")
    assert response.status_code == 400
    assert errors(response) == [("date", "invalid")]


def test_a_therapist_cannot_check_in(world: World, client_for: ClientFor) -> None:
    response = client_for(world.therapist).put(_day(_today()), _body(world.couple), format="json")
    assert response.status_code == 403
    assert CheckIn.objects.count() == 0


def test_a_couple_the_caller_does_not_belong_to_is_refused_as_unknown(
    world: World, client_for: ClientFor
) -> None:
    response = client_for(world.outsider).put(_day(_today()), _body(world.couple), format="json")
    assert response.status_code == 400
    assert errors(response) == [("couple", "does_not_exist")]
    assert CheckIn.objects.count() == 0


def test_an_ended_couple_takes_no_check_ins(world: World, client_for: ClientFor) -> None:
    Couple.objects.filter(pk=world.couple.pk).update(status="ended")
    response = client_for(world.partner).put(_day(_today()), _body(world.couple), format="json")
    assert response.status_code == 409
    assert CheckIn.objects.count() == 0


def test_a_paused_couple_still_takes_check_ins(world: World, client_for: ClientFor) -> None:
    Couple.objects.filter(pk=world.couple.pk).update(status="paused")
    response = client_for(world.partner).put(_day(_today()), _body(world.couple), format="json")
    assert response.status_code == 201


# --- the date window, in the couple's local date -----------------------------------------------


@time_machine.travel("2026-11-23T12:00:00Z", tick=False)
@pytest.mark.parametrize(
    ("day", "status"),
    [
        ("2026-11-09", 201),  # today - 14
        ("2026-11-08", 400),
        ("2026-11-24", 201),  # tomorrow
        ("2026-11-25", 400),
    ],
)
def test_check_ins_may_be_backfilled_14_days_and_dated_one_day_ahead(
    world: World, client_for: ClientFor, day: str, status: int
) -> None:
    response = client_for(world.partner).put(_day(day), _body(world.couple), format="json")
    assert response.status_code == status
    if status == 400:
        assert errors(response) == [("date", "out_of_window")]
    assert CheckIn.objects.count() == (1 if status == 201 else 0)


@time_machine.travel("2026-11-23T23:30:00Z", tick=False)
def test_the_window_follows_the_couples_local_date_across_the_date_line(
    client_for: ClientFor,
) -> None:
    # At 23:30 UTC on the 23rd it is already 12:30 on the 24th in Auckland (NZDT, UTC+13).
    auckland, kiri, _, _ = make_couple(timezone="Pacific/Auckland")
    utc, ana, _, _ = make_couple(timezone="UTC")
    kiri_client, ana_client = client_for(kiri), client_for(ana)
    assert kiri_client.put(_day("2026-11-25"), _body(auckland), format="json").status_code == 201
    assert ana_client.put(_day("2026-11-25"), _body(utc), format="json").status_code == 400
    assert kiri_client.put(_day("2026-11-09"), _body(auckland), format="json").status_code == 400
    assert ana_client.put(_day("2026-11-09"), _body(utc), format="json").status_code == 201
    assert kiri_client.put(_day("2026-11-10"), _body(auckland), format="json").status_code == 201


@time_machine.travel("2026-11-23T08:30:00Z", tick=False)
def test_a_couple_behind_utc_is_still_on_the_day_before(client_for: ClientFor) -> None:
    # 08:30 UTC is 00:30 in Los Angeles (PST, UTC-8): still the 23rd there, 22nd is yesterday.
    couple, partner, _, _ = make_couple(timezone="America/Los_Angeles")
    client = client_for(partner)
    assert client.put(_day("2026-11-24"), _body(couple), format="json").status_code == 201
    assert client.put(_day("2026-11-25"), _body(couple), format="json").status_code == 400


# --- reading ----------------------------------------------------------------------------------


def test_a_partner_reads_their_own_check_in_by_date(world: World, client_for: ClientFor) -> None:
    mine = _checkin(world, world.partner, "private")
    client = client_for(world.partner)
    response = client.get(_day(mine.date), {"couple": str(world.couple.pk)})
    assert response.status_code == 200
    assert response.json()["id"] == str(mine.pk)
    etag = response["ETag"]
    again = client.get(_day(mine.date), {"couple": str(world.couple.pk)}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


def test_reading_by_date_needs_the_couple(world: World, client_for: ClientFor) -> None:
    _checkin(world, world.partner, "couple")
    client = client_for(world.partner)
    missing = client.get(_day(_today()))
    assert missing.status_code == 400
    assert errors(missing) == [("couple", "required")]
    bad = client.get(_day(_today()), {"couple": "nope"})
    assert bad.status_code == 400
    assert errors(bad) == [("couple", "invalid")]


def test_the_by_date_route_is_only_ever_the_callers_own(
    world: World, client_for: ClientFor
) -> None:
    theirs = _checkin(world, world.partner, "couple")
    params = {"couple": str(world.couple.pk)}
    for name in ("other_partner", "therapist", "outsider", "other_therapist"):
        assert client_for(world.actor(name)).get(_day(theirs.date), params).status_code == 404


def test_a_partner_never_sees_the_other_partners_private_or_therapist_check_ins(
    world: World, client_for: ClientFor
) -> None:
    _checkin(world, world.other_partner, "private", note="PRIVATE-0c8e1f")
    _checkin(
        world,
        world.other_partner,
        "therapist",
        note="THERAPIST-9b2d4a",
        date=_today() - timedelta(days=1),
    )
    shared = _checkin(
        world, world.other_partner, "couple", note="SHARED", date=_today() - timedelta(days=2)
    )
    mine = _checkin(world, world.partner, "private", note="MINE")
    client = client_for(world.partner)
    listed = client.get(CHECKINS)
    text = listed.content.decode()
    assert "PRIVATE-0c8e1f" not in text
    assert "THERAPIST-9b2d4a" not in text
    assert {c["id"] for c in listed.json()["results"]} == {str(shared.pk), str(mine.pk)}
    by_author = client.get(CHECKINS, {"author": str(world.other_partner.pk)})
    assert [c["id"] for c in by_author.json()["results"]] == [str(shared.pk)]


def test_a_therapist_never_sees_private_check_ins(world: World, client_for: ClientFor) -> None:
    _checkin(world, world.partner, "private", note="PRIVATE-5a7e33")
    seen = _checkin(world, world.other_partner, "therapist", note="FOR-THE-THERAPIST")
    listed = client_for(world.therapist).get(CHECKINS)
    assert "PRIVATE-5a7e33" not in listed.content.decode()
    assert [c["id"] for c in listed.json()["results"]] == [str(seen.pk)]
    assert client_for(world.other_therapist).get(CHECKINS).json()["results"] == []


def test_check_ins_list_newest_date_first_with_inclusive_date_filters(
    world: World, client_for: ClientFor
) -> None:
    days = [_today() - timedelta(days=n) for n in range(5)]
    made = {day: _checkin(world, world.partner, "couple", date=day) for day in days}
    client = client_for(world.partner)
    assert [c["date"] for c in client.get(CHECKINS).json()["results"]] == [str(d) for d in days]
    window = client.get(CHECKINS, {"date_after": str(days[3]), "date_before": str(days[1])})
    assert [c["id"] for c in window.json()["results"]] == [
        str(made[days[1]].pk),
        str(made[days[2]].pk),
        str(made[days[3]].pk),
    ]
    assert client.get(CHECKINS, {"couple": str(world.other_couple.pk)}).json()["results"] == []


# --- deleting and narrowing: removals ----------------------------------------------------------


def test_deleting_a_couple_check_in_tells_everyone_who_could_see_it(
    world: World, client_for: ClientFor
) -> None:
    checkin = _checkin(world, world.partner, "couple")
    client = client_for(world.partner)
    response = client.delete(_day(checkin.date) + f"?couple={world.couple.pk}")
    assert response.status_code == 204
    assert not CheckIn.objects.exists()
    assert set(Removal.objects.values_list("user_id", "type", "object_id")) == {
        (user.pk, "checkin", checkin.pk)
        for user in (world.partner, world.other_partner, world.therapist)
    }
    assert client.delete(_day(checkin.date) + f"?couple={world.couple.pk}").status_code == 404


def test_deleting_a_private_check_in_tells_only_its_author(
    world: World, client_for: ClientFor
) -> None:
    checkin = _checkin(world, world.partner, "private")
    client_for(world.partner).delete(_day(checkin.date) + f"?couple={world.couple.pk}")
    assert list(Removal.objects.values_list("user_id", flat=True)) == [world.partner.pk]


def test_nobody_deletes_someone_elses_check_in(world: World, client_for: ClientFor) -> None:
    checkin = _checkin(world, world.partner, "couple")
    for name in ("other_partner", "therapist", "outsider"):
        response = client_for(world.actor(name)).delete(
            _day(checkin.date) + f"?couple={world.couple.pk}"
        )
        assert response.status_code == 404
    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    ("before", "after", "lose_it"),
    [
        ("couple", "therapist", {"other_partner"}),
        ("couple", "private", {"other_partner", "therapist"}),
        ("therapist", "private", {"therapist"}),
        ("private", "couple", set()),
        ("therapist", "couple", set()),
    ],
)
def test_narrowing_a_check_in_tells_exactly_those_who_lose_sight_of_it(
    world: World, client_for: ClientFor, before: str, after: str, lose_it: set[str]
) -> None:
    client = client_for(world.partner)
    client.put(_day(_today()), _body(world.couple, visibility=before), format="json")
    assert not Removal.objects.exists()
    response = client.put(_day(_today()), _body(world.couple, visibility=after), format="json")
    assert response.status_code == 200
    checkin = CheckIn.objects.get()
    assert set(Removal.objects.values_list("user_id", "type", "object_id")) == {
        (getattr(world, name).pk, "checkin", checkin.pk) for name in lose_it
    }


# --- the representation ------------------------------------------------------------------------


def test_the_check_in_representation_is_what_its_fields_give(world: World) -> None:
    checkins = [
        _checkin(world, world.partner, "couple", note="Talked it through.", mood=3, effort=5),
        _checkin(
            world,
            world.other_partner,
            "private",
            date=_today() - timedelta(days=1),
            mood=None,
            wellbeing=1,
            note="",
        ),
    ]
    for author, checkin in ((world.partner, checkins[0]), (world.other_partner, checkins[1])):
        # As the API reads it: through the author's selector, with their own timestamps.
        checkin = checkins_visible_to(author).get(pk=checkin.pk)
        fast = CheckInSerializer(checkin).data
        # The representation DRF's fields build one by one.
        by_fields = DRFModelSerializer.to_representation(CheckInSerializer(), checkin)
        # The same bytes in JSON, ids included: the representation gives them as text already.
        assert JSONRenderer().render(fast) == JSONRenderer().render(by_fields)
        assert list(fast) == CheckInSerializer.Meta.fields
        assert [type(v) for v in fast.values()] == [
            str if isinstance(v, UUID) else type(v) for v in by_fields.values()
        ]
        assert {k: str(v) if isinstance(v, UUID) else v for k, v in by_fields.items()} == fast
