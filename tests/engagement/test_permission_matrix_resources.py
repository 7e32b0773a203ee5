"""Who may read and change sessions, commitments, check-ins and removals: one table per resource.

Every row is an endpoint; every column an actor of the `world` fixture, in the order of
`ACTORS`: anonymous, outsider, partner, other_partner, therapist, other_therapist. The objects
belong to `world.couple`; `partner` owns the commitments and authors the check-in.

Reading the table: 401 before anything else; 404 for what the actor cannot see (so ids cannot
be probed); 403 for what they see but may not change. Where the couple travels in the *body*
(creating a session or commitment, putting a check-in) an unknown couple is a 400
`does_not_exist` on `couple`, as SPEC section 3 says for ids in a body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Membership
from engagement.models import TherapySession
from tests.conftest import ACTORS
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Objects:
    joint: TherapySession
    individual: TherapySession
    shared: Commitment
    hidden: Commitment
    checkin: CheckIn


def _objects(world: World) -> Objects:
    earlier = timezone.now() - timedelta(hours=2)
    return Objects(
        joint=TherapySessionFactory.create(couple=world.couple, starts_at=earlier),
        individual=TherapySessionFactory.create(
            couple=world.couple, kind="individual", focus_partner=world.partner, starts_at=earlier
        ),
        shared=CommitmentFactory.create(
            couple=world.couple, owner=world.partner, visibility="couple"
        ),
        hidden=CommitmentFactory.create(
            couple=world.couple, owner=world.partner, visibility="therapist"
        ),
        checkin=CheckInFactory.create(
            couple=world.couple, author=world.partner, visibility="couple"
        ),
    )


Request = tuple[str, str, Any]  # method, path, body
Build = Callable[[World, Objects], Request]


def _attendance_body(world: World) -> dict[str, Any]:
    """What the caller may record: a therapist both partners; a partner only themselves."""
    return {
        "attendance": [
            {"partner": str(world.partner.pk), "status": "attended", "participation": None},
            {"partner": str(world.other_partner.pk), "status": "attended", "participation": None},
        ]
    }


def _checkin_path(world: World, o: Objects) -> str:
    return f"/api/v1/checkins/{o.checkin.date}/?couple={world.couple.pk}"


# Every list answers anyone signed in, holding only what they may see (the test after the
# tables); anonymous callers get 401.
LISTS = {
    "sessions": "/api/v1/sessions/",
    "commitments": "/api/v1/commitments/",
    "check-ins": "/api/v1/checkins/",
    "removals": "/api/v1/removals/",
}


def _get(path: str) -> Build:
    return lambda w, o: ("get", path, None)


def _on(method: str, name: str, action: str = "", body: Any = None) -> Build:
    """A request on one of the objects: ``name`` is `joint` or `individual` (sessions),
    `shared` or `hidden` (commitments); ``action`` as in `keep/`."""
    collection = "sessions" if name in ("joint", "individual") else "commitments"
    return lambda w, o: (method, f"/api/v1/{collection}/{getattr(o, name).pk}/{action}", body)


READS: dict[str, tuple[Build, tuple[int, ...]]] = {
    **{
        f"list {name}": (_get(path), (401, 200, 200, 200, 200, 200)) for name, path in LISTS.items()
    },
    #                                    anonymous outsider partner other therapist other_th
    "read a joint session": (_on("get", "joint"), (401, 404, 200, 200, 200, 404)),
    "read partner's individual session": (_on("get", "individual"), (401, 404, 200, 404, 200, 404)),
    "read a couple-visible commitment": (_on("get", "shared"), (401, 404, 200, 200, 200, 404)),
    "read a therapist-only commitment": (_on("get", "hidden"), (401, 404, 200, 404, 200, 404)),
    # The by-date route is always the caller's own check-in: nobody else's is there.
    "read partner's check-in by date": (
        lambda w, o: ("get", _checkin_path(w, o), None),
        (401, 404, 200, 404, 404, 404),
    ),
}


WRITES: dict[str, tuple[Build, tuple[int, ...]]] = {
    #                                    anonymous outsider partner other therapist other_th
    "create a session": (
        lambda w, o: (
            "post",
            "/api/v1/sessions/",
            {"couple": str(w.couple.pk), "kind": "joint", "starts_at": "2026-11-20T18:00:00Z"},
        ),
        (401, 400, 403, 403, 201, 400),
    ),
    "edit a joint session": (
        _on("patch", "joint", body={"duration_minutes": 60}),
        (401, 404, 403, 403, 200, 404),
    ),
    "edit partner's individual session": (
        _on("patch", "individual", body={"duration_minutes": 60}),
        (401, 404, 403, 404, 200, 404),
    ),
    "delete a joint session": (_on("delete", "joint"), (401, 404, 403, 403, 204, 404)),
    "record attendance": (
        lambda w, o: ("put", f"/api/v1/sessions/{o.joint.pk}/attendance/", _attendance_body(w)),
        (401, 404, 403, 403, 200, 404),
    ),
    "create a commitment for partner": (
        lambda w, o: (
            "post",
            "/api/v1/commitments/",
            {
                "couple": str(w.couple.pk),
                "owner": str(w.partner.pk),
                "title": "Walk together",
                "due_on": "2026-11-29",
                "visibility": "couple",
            },
        ),
        (401, 400, 201, 403, 201, 400),
    ),
    "edit partner's commitment": (
        _on("patch", "shared", body={"title": "Walk twice"}),
        (401, 404, 200, 403, 200, 404),
    ),
    **{
        f"{action} partner's commitment": (
            _on("post", "shared", f"{action}/"),
            (401, 404, 200, 403, 200, 404),
        )
        for action in ("keep", "miss", "release")
    },
    "renew partner's commitment": (
        _on("post", "shared", "renew/", {"due_on": "2026-12-06"}),
        (401, 404, 201, 403, 201, 404),
    ),
    "keep partner's therapist-only commitment": (
        _on("post", "hidden", "keep/"),
        (401, 404, 200, 404, 200, 404),
    ),
    # Each partner puts their own check-in: partner replaces theirs (200), the other partner
    # creates their own (201); therapists never check in.
    "put a check-in in the couple": (
        lambda w, o: (
            "put",
            f"/api/v1/checkins/{o.checkin.date}/",
            {"couple": str(w.couple.pk), "visibility": "couple", "mood": 2},
        ),
        (401, 400, 200, 201, 403, 400),
    ),
    "delete partner's check-in by date": (
        lambda w, o: ("delete", _checkin_path(w, o), None),
        (401, 404, 204, 404, 404, 404),
    ),
}


def _cases(table: dict[str, tuple[Build, tuple[int, ...]]]) -> list[Any]:
    return [
        pytest.param(build, actor, expected, id=f"{name} as {actor}")
        for name, (build, statuses) in table.items()
        for actor, expected in zip(ACTORS, statuses, strict=True)
    ]


def _call(client: APIClient, request: Request) -> Any:
    method, path, body = request
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


@pytest.mark.parametrize(("build", "actor", "expected"), _cases(READS) + _cases(WRITES))
def test_who_may_read_and_change_sessions_commitments_check_ins_and_removals(
    world: World, client_for: ClientFor, build: Build, actor: str, expected: int
) -> None:
    objects = _objects(world)
    response = _call(client_for(world.actor(actor)), build(world, objects))
    assert response.status_code == expected, response.content


def test_lists_hold_only_what_each_actor_may_see(world: World, client_for: ClientFor) -> None:
    o = _objects(world)
    visible = {
        "outsider": (set(), set(), set()),
        "partner": (
            {o.joint.pk, o.individual.pk},
            {o.shared.pk, o.hidden.pk},
            {o.checkin.pk},
        ),
        "other_partner": ({o.joint.pk}, {o.shared.pk}, {o.checkin.pk}),
        "therapist": (
            {o.joint.pk, o.individual.pk},
            {o.shared.pk, o.hidden.pk},
            {o.checkin.pk},
        ),
        "other_therapist": (set(), set(), set()),
    }
    for actor, (sessions, commitments, checkins) in visible.items():
        client = client_for(world.actor(actor))
        for path, expected in (
            (LISTS["sessions"], sessions),
            (LISTS["commitments"], commitments),
            (LISTS["check-ins"], checkins),
        ):
            listed = {r["id"] for r in client.get(path).json()["results"]}
            assert listed == {str(pk) for pk in expected}, (actor, path)


# --- former and later partners (SPEC section 1, membership periods) ----------------------------
# `other_partner` leaves; `newcomer` joins after: the former reads nothing of the couple any
# more, the newcomer nothing of what was shared before they came (everything above is dated
# today and started before they joined). 404 both, as for anyone outside.

PERIODS: dict[str, tuple[Build, tuple[int, int]]] = {
    #                                                               former  later
    "read a joint session": (READS["read a joint session"][0], (404, 404)),
    "read a couple-visible commitment": (READS["read a couple-visible commitment"][0], (404, 404)),
    "read a therapist-only commitment": (READS["read a therapist-only commitment"][0], (404, 404)),
    "edit a joint session": (WRITES["edit a joint session"][0], (404, 404)),
    "record attendance": (WRITES["record attendance"][0], (404, 404)),
    "keep partner's commitment": (WRITES["keep partner's commitment"][0], (404, 404)),
    "renew partner's commitment": (WRITES["renew partner's commitment"][0], (404, 404)),
}


def _change_partners(world: World) -> User:
    """`other_partner` leaves now; a newcomer takes the free place a moment later."""
    now = timezone.now()
    Membership.objects.filter(couple=world.couple, user=world.other_partner).update(
        left_at=now, partner_slot=None
    )
    newcomer: User = UserFactory.create()
    Membership.objects.create(
        couple=world.couple,
        user=newcomer,
        role="partner",
        partner_slot=2,
        joined_at=now + timedelta(seconds=1),
    )
    return newcomer


@pytest.mark.parametrize(
    ("build", "who", "expected"),
    [
        pytest.param(build, who, expected, id=f"{name} as {who}")
        for name, (build, statuses) in PERIODS.items()
        for who, expected in zip(("former", "later"), statuses, strict=True)
    ],
)
def test_former_and_later_partners_reach_nothing_from_before(
    world: World, client_for: ClientFor, build: Build, who: str, expected: int
) -> None:
    objects = _objects(world)
    newcomer = _change_partners(world)
    actor = world.other_partner if who == "former" else newcomer
    before = (
        TherapySession.objects.count(),
        list(Commitment.objects.values_list("status", flat=True).order_by("id")),
    )
    response = _call(client_for(actor), build(world, objects))
    assert response.status_code == expected, response.content
    assert before == (
        TherapySession.objects.count(),
        list(Commitment.objects.values_list("status", flat=True).order_by("id")),
    )


def test_former_and_later_partners_list_nothing_from_before(
    world: World, client_for: ClientFor
) -> None:
    _objects(world)
    newcomer = _change_partners(world)
    for actor in (world.other_partner, newcomer):
        client = client_for(actor)
        for path in (LISTS["sessions"], LISTS["commitments"], LISTS["check-ins"]):
            for params in ({}, {"updated_since": "2000-01-01T00:00:00Z"}):
                assert client.get(path, params).json()["results"] == [], (actor, path)
