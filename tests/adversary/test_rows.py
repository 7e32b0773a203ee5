"""Attacks on rows and their timestamps, written as the other partner would try them.

Membership periods (SPEC v1.1 section 1): a newcomer reads nothing a former partner shared, nor
what the remaining partner shared before they came. Derived changes stay invisible: a therapist's
notes, ratings or safety hold move nothing a partner can observe. Gained access: a record shared
later reads as created when it was shared; a reference the reader cannot follow reads as null.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import Couple
from engagement.models import Removal
from tests.conftest import ClientFor
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation

pytestmark = pytest.mark.django_db

API = "/api/v1"
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def _couple_and_therapist() -> tuple[Couple, User, User, User]:
    """A couple of two partners, and their therapist."""
    couple, first, second, therapist = make_couple()
    assert therapist is not None
    return couple, first, second, therapist


def _ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.content
    return response.json() if response.content else None


def _created(client: APIClient, path: str, body: dict[str, Any]) -> Any:
    """POST `body` as JSON to `{API}/{path}`: a 201, and its answer."""
    return _ok(client.post(f"{API}/{path}", body, format="json"), 201)


def _joint_session(client: APIClient, couple: Couple, starts_at: str) -> Any:
    return _created(
        client, "sessions/", {"couple": str(couple.pk), "kind": "joint", "starts_at": starts_at}
    )


def _at(text: str) -> dt.datetime:
    """A timestamp as an instant, whatever the width the API writes it in."""
    return dt.datetime.fromisoformat(text)


def _checkin(
    client: APIClient, couple: Couple, day: dt.date, visibility: str, **fields: Any
) -> Any:
    body = {"couple": str(couple.pk), "visibility": visibility, "mood": 3, **fields}
    response = client.put(f"{API}/checkins/{day.isoformat()}/", body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def _ids(client: APIClient, path: str, **params: Any) -> set[str]:
    return {row["id"] for row in _ok(client.get(f"{API}/{path}/", params))["results"]}


def _everything(client: APIClient, path: str) -> set[str]:
    """Every id a list shows, plainly and as a sync feed from the beginning of time."""
    return _ids(client, path) | _ids(client, path, updated_since="2000-01-01T00:00:00Z")


# --- membership periods -----------------------------------------------------------------------


def test_a_newcomer_never_reads_what_a_former_partner_shared(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, former, remaining, therapist = _couple_and_therapist()
    shared = _checkin(client_for(former), couple, MONDAY.date(), "couple", note="R's words")
    promise = _created(
        client_for(former),
        "commitments/",
        {
            "couple": str(couple.pk),
            "title": "R's promise",
            "due_on": "2026-11-04",
            "visibility": "couple",
        },
    )
    clock.move_to(MONDAY + dt.timedelta(days=3))
    _ok(client_for(former).post(f"{API}/couples/{couple.pk}/leave/"), 204)
    clock.move_to(MONDAY + dt.timedelta(days=4))
    newcomer = UserFactory.create()
    _, token = make_invitation(couple=couple, invited_by=therapist, email=newcomer.email)
    _ok(client_for(newcomer).post(f"{API}/invitations/accept/", {"token": token}, format="json"))

    attacker = client_for(newcomer)
    assert shared["id"] not in _everything(attacker, "checkins")
    assert not _ids(attacker, "checkins", author=str(former.pk))
    assert promise["id"] not in _everything(attacker, "commitments")
    assert attacker.get(f"{API}/commitments/{promise['id']}/").status_code == 404
    assert "R's words" not in attacker.get(f"{API}/checkins/").content.decode()
    # The remaining partner shared both moments with the former one: they keep reading them.
    assert shared["id"] in _everything(client_for(remaining), "checkins")
    assert promise["id"] in _everything(client_for(remaining), "commitments")


def test_a_newcomer_never_reads_what_the_remaining_partner_shared_before_they_came(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, leaver, remaining, therapist = _couple_and_therapist()
    before = _checkin(client_for(remaining), couple, MONDAY.date(), "couple")
    early_session = _joint_session(client_for(therapist), couple, "2026-11-02T08:00:00Z")
    clock.move_to(MONDAY + dt.timedelta(days=1))
    _ok(client_for(leaver).post(f"{API}/couples/{couple.pk}/leave/"), 204)
    between = _checkin(client_for(remaining), couple, MONDAY.date() + dt.timedelta(1), "couple")
    clock.move_to(MONDAY + dt.timedelta(days=2))
    newcomer = UserFactory.create()
    _, token = make_invitation(couple=couple, invited_by=therapist, email=newcomer.email)
    _ok(client_for(newcomer).post(f"{API}/invitations/accept/", {"token": token}, format="json"))
    after = _checkin(client_for(remaining), couple, MONDAY.date() + dt.timedelta(3), "couple")
    later_session = _joint_session(client_for(therapist), couple, "2026-11-04T18:00:00Z")

    attacker = client_for(newcomer)
    seen = _everything(attacker, "checkins")
    assert before["id"] not in seen
    assert between["id"] not in seen
    assert after["id"] in seen
    sessions = _everything(attacker, "sessions")
    assert early_session["id"] not in sessions
    assert attacker.get(f"{API}/sessions/{early_session['id']}/").status_code == 404
    assert later_session["id"] in sessions


def test_the_first_partners_read_each_others_onboarding_history(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    """The first partnership reaches back before the couple's creation (SPEC section 1)."""
    first = UserFactory.create()
    couple_id = _created(client_for(first), "couples/", {"name": "AB"})["id"]
    couple = Couple.objects.get(pk=couple_id)
    backfilled = _checkin(client_for(first), couple, MONDAY.date() - dt.timedelta(10), "couple")
    second = UserFactory.create()
    _, token = make_invitation(couple=couple, invited_by=first, email=second.email)
    _ok(client_for(second).post(f"{API}/invitations/accept/", {"token": token}, format="json"))
    assert backfilled["id"] in _everything(client_for(second), "checkins")


# --- derived changes stay invisible -----------------------------------------------------------


def _snapshot(client: APIClient, path: str) -> tuple[str, str, str]:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode(), response["ETag"], response.json()["updated_at"]


def test_therapist_notes_and_ratings_move_nothing_a_partner_observes(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, partner, other, therapist = _couple_and_therapist()
    doctor = client_for(therapist)
    session = _joint_session(doctor, couple, "2026-11-02T08:00:00Z")
    detail = f"{API}/sessions/{session['id']}/"
    attendance = [
        {"partner": str(partner.pk), "status": "attended", "participation": 1},
        {"partner": str(other.pk), "status": "late", "participation": 2},
    ]
    _ok(doctor.put(f"{detail}attendance/", {"attendance": attendance}, format="json"))
    clock.shift(dt.timedelta(minutes=5))
    before = _snapshot(client_for(partner), detail)
    since = before[2]
    feed_before = client_for(partner).get(f"{API}/sessions/", {"updated_since": since}).content

    clock.shift(dt.timedelta(minutes=5))
    _ok(doctor.patch(detail, {"therapist_notes": "Guarded, again."}, format="json"))
    attendance[0]["participation"] = 3
    _ok(doctor.put(f"{detail}attendance/", {"attendance": attendance}, format="json"))

    attacker = client_for(partner)
    assert _snapshot(attacker, detail) == before
    assert attacker.get(f"{API}/sessions/", {"updated_since": since}).content == feed_before
    later = (MONDAY + dt.timedelta(minutes=7)).isoformat()
    assert not _ids(attacker, "sessions", updated_since=later)
    # The therapist's own clock did move.
    assert _snapshot(doctor, detail)[2] > since
    assert session["id"] in _ids(doctor, "sessions", updated_since=later)


def test_the_safety_hold_moves_nothing_a_partner_observes(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, partner, _, therapist = _couple_and_therapist()
    detail = f"{API}/couples/{couple.pk}/"
    before = _snapshot(client_for(partner), detail)
    clock.shift(dt.timedelta(minutes=5))
    _ok(client_for(therapist).patch(detail, {"safety_hold": True}, format="json"))
    held = _snapshot(client_for(partner), detail)
    clock.shift(dt.timedelta(minutes=5))
    _ok(client_for(therapist).patch(detail, {"safety_hold": False}, format="json"))
    assert held == before == _snapshot(client_for(partner), detail)
    later = (MONDAY + dt.timedelta(minutes=1)).isoformat()
    assert not _ids(client_for(partner), "couples", updated_since=later)
    assert str(couple.pk) in _ids(client_for(therapist), "couples", updated_since=later)


def test_a_partner_never_reads_a_participation_rating_not_even_their_own(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, partner, other, therapist = _couple_and_therapist()
    session = _joint_session(client_for(therapist), couple, "2026-11-02T08:00:00Z")
    _ok(
        client_for(therapist).put(
            f"{API}/sessions/{session['id']}/attendance/",
            [
                {"partner": str(partner.pk), "status": "attended", "participation": 3},
                {"partner": str(other.pk), "status": "absent", "participation": None},
            ],
            format="json",
        )
    )
    for reader in (partner, other):
        body = _ok(client_for(reader).get(f"{API}/sessions/{session['id']}/"))
        assert {(a["partner"], a["status"], a["participation"]) for a in body["attendance"]} == {
            (str(partner.pk), "attended", None),
            (str(other.pk), "absent", None),
        }


# --- gained access, references ----------------------------------------------------------------


def test_a_check_in_shared_later_reads_as_created_when_it_was_shared(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, partner, author, _ = make_couple()
    written = _checkin(client_for(author), couple, MONDAY.date(), "private", note="later")
    clock.shift(dt.timedelta(hours=3))
    widened = _checkin(client_for(author), couple, MONDAY.date(), "couple", note="later")
    (seen,) = _ok(client_for(partner).get(f"{API}/checkins/", {"author": str(author.pk)}))[
        "results"
    ]
    assert _at(seen["created_at"]) == _at("2026-11-02T13:00:00Z")
    assert _at(seen["updated_at"]) >= _at(seen["created_at"])
    # The author still reads when they wrote it.
    assert _at(widened["created_at"]) == _at(written["created_at"]) == _at("2026-11-02T10:00:00Z")
    assert seen["id"] in _ids(client_for(partner), "checkins", updated_since="2026-11-02T13:00:00Z")


def test_a_renewal_keeps_its_visibility_and_hides_a_reference_the_reader_cannot_follow(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, partner, owner, therapist = _couple_and_therapist()
    hidden = _created(
        client_for(therapist),
        "commitments/",
        {
            "couple": str(couple.pk),
            "owner": str(owner.pk),
            "title": "Say what scares you",
            "due_on": "2026-11-03",
            "visibility": "therapist",
        },
    )
    renewal = _created(
        client_for(owner), f"commitments/{hidden['id']}/renew/", {"due_on": "2026-11-05"}
    )
    assert renewal["visibility"] == "therapist"
    assert renewal["id"] not in _everything(client_for(partner), "commitments")
    clock.shift(dt.timedelta(hours=1))
    _ok(
        client_for(owner).patch(
            f"{API}/commitments/{renewal['id']}/", {"visibility": "couple"}, format="json"
        )
    )
    seen = _ok(client_for(partner).get(f"{API}/commitments/{renewal['id']}/"))
    assert seen["renewed_from"] is None
    assert _at(seen["created_at"]) == _at("2026-11-02T11:00:00Z")
    assert (
        _ok(client_for(owner).get(f"{API}/commitments/{renewal['id']}/"))["renewed_from"]
        == hidden["id"]
    )
    # Once the original is shared too, the reference resolves, and the renewal says so.
    clock.shift(dt.timedelta(hours=1))
    _ok(
        client_for(owner).patch(
            f"{API}/commitments/{hidden['id']}/", {"visibility": "couple"}, format="json"
        )
    )
    again = _ok(client_for(partner).get(f"{API}/commitments/{renewal['id']}/"))
    assert again["renewed_from"] == hidden["id"]
    assert _at(again["updated_at"]) == _at("2026-11-02T12:00:00Z")


def test_narrowing_a_check_in_removes_it_only_for_who_lost_sight(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    couple, partner, author, therapist = _couple_and_therapist()
    checkin = _checkin(client_for(author), couple, MONDAY.date(), "couple")
    _checkin(client_for(author), couple, MONDAY.date(), "therapist")
    assert set(
        Removal.objects.filter(object_id=checkin["id"]).values_list("user_id", flat=True)
    ) == {partner.pk}
    _checkin(client_for(author), couple, MONDAY.date(), "private")
    assert set(
        Removal.objects.filter(object_id=checkin["id"]).values_list("user_id", flat=True)
    ) == {partner.pk, therapist.pk}


def test_a_check_in_shared_from_the_start_reads_as_written_to_both_partners(
    client_for: ClientFor,
) -> None:
    couple, partner, author, _ = make_couple()
    written = _checkin(client_for(author), couple, timezone.now().date(), "couple")
    (seen,) = _ok(client_for(partner).get(f"{API}/checkins/"))["results"]
    assert (seen["id"], seen["created_at"]) == (written["id"], written["created_at"])
