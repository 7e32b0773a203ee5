"""Who may read and change couples and invitations: every endpoint, every actor, as one table.

The world (tests/conftest.py): `couple` has `partner`, `other_partner` and `therapist`, and a
pending therapist invitation; `outsider` is a partner of another couple whose therapist is
`other_therapist`. In the `no_therapist` setup the couple's therapist has left first, so the
partners run the couple (SPEC section 1) and the former therapist is an outsider, and the
invitation is a therapist invitation `partner` sent, waiting for `other_partner`'s approval.
A partner sees the invitations they sent and those waiting for their approval; therapists see
all of their couples'.

Cells: a status code; for lists, `listed` or `hidden` (200 either way) says whether the
world's couple (or invitation) is in the caller's results.
"""

# ruff: noqa: E501 - the matrix below is a table, one line per row, wider than the usual limit

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from engagement.models import Invitation
from engagement.models import Membership
from tests.conftest import ACTORS
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import make_invitation

MATRIX = """
endpoint               setup         kind   anonymous  outsider  partner  other_partner  therapist  other_therapist
couples.list           therapist     read   401        hidden    listed   listed         listed     hidden
couples.retrieve       therapist     read   401        404       200      200            200        404
couples.create         therapist     write  401        201       201      201            201        201
couples.update         therapist     write  401        404       403      403            200        404
couples.share_balance  therapist     write  401        404       200      200            403        404
couples.leave          therapist     write  401        404       204      204            204        404
couples.remove_member  therapist     write  401        404       403      403            204        404
invitations.list       therapist     read   401        hidden    hidden   hidden         listed     hidden
invitations.retrieve   therapist     read   401        404       404      404            200        404
invitations.create     therapist     write  401        400       403      403            201        400
invitations.accept     therapist     write  401        403       403      403            409        200
invitations.approve    therapist     write  401        404       404      404            403        404
invitations.revoke     therapist     write  401        404       404      404            200        404
couples.retrieve       no_therapist  read   401        404       200      200            404        404
couples.update         no_therapist  write  401        404       200      200            404        404
couples.remove_member  no_therapist  write  401        404       403      403            404        404
invitations.list       no_therapist  read   401        hidden    listed   listed         hidden     hidden
invitations.retrieve   no_therapist  read   401        404       200      200            404        404
invitations.create     no_therapist  write  401        400       201      201            400        400
invitations.accept     no_therapist  write  401        403       403      403            409        409
invitations.approve    no_therapist  write  401        404       403      200            404        404
invitations.revoke     no_therapist  write  401        404       200      200            404        404
"""


@dataclass(frozen=True)
class Scene:
    world: World
    invitation: Invitation
    token: str


@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[Scene], str]
    body: Callable[[Scene], dict[str, Any]] = lambda scene: {}
    listed: Callable[[Scene], str] | None = None  # for lists: the id to look for


def _couple(scene: Scene, action: str = "") -> str:
    return f"/api/v1/couples/{scene.world.couple.pk}/{action}"


def _invitation(scene: Scene, action: str = "") -> str:
    return f"/api/v1/invitations/{scene.invitation.pk}/{action}"


CALLS: dict[str, Call] = {
    "couples.list": Call(
        "get", lambda s: "/api/v1/couples/", listed=lambda s: str(s.world.couple.pk)
    ),
    "couples.retrieve": Call("get", _couple),
    "couples.create": Call("post", lambda s: "/api/v1/couples/", lambda s: {"name": "New"}),
    "couples.update": Call("patch", _couple, lambda s: {"checkin_target_per_week": 5}),
    "couples.share_balance": Call(
        "post", lambda s: _couple(s, "share-balance/"), lambda s: {"share": True}
    ),
    "couples.leave": Call("post", lambda s: _couple(s, "leave/")),
    "couples.remove_member": Call(
        "post",
        lambda s: _couple(s, "remove-member/"),
        lambda s: {"user": str(s.world.other_partner.pk)},
    ),
    "invitations.list": Call(
        "get", lambda s: "/api/v1/invitations/", listed=lambda s: str(s.invitation.pk)
    ),
    "invitations.retrieve": Call("get", _invitation),
    "invitations.create": Call(
        "post",
        lambda s: "/api/v1/invitations/",
        lambda s: {"couple": str(s.world.couple.pk), "email": "x@example.com", "role": "therapist"},
    ),
    "invitations.accept": Call(
        "post", lambda s: "/api/v1/invitations/accept/", lambda s: {"token": s.token}
    ),
    "invitations.approve": Call("post", lambda s: _invitation(s, "approve/")),
    "invitations.revoke": Call("post", lambda s: _invitation(s, "revoke/")),
}


def _rows() -> list[Any]:
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header[3:] == list(ACTORS)
    params = []
    for endpoint, setup, _kind, *cells in rows:
        for actor, expected in zip(ACTORS, cells, strict=True):
            params.append(
                pytest.param(endpoint, setup, actor, expected, id=f"{endpoint}-{setup}-{actor}")
            )
    return params


def test_the_matrix_covers_every_endpoint_read_and_written() -> None:
    endpoints = {line.split()[0] for line in MATRIX.strip().splitlines()[1:]}
    assert endpoints == set(CALLS)


@pytest.mark.parametrize(("endpoint", "setup", "actor", "expected"), _rows())
def test_permission_matrix(
    world: World, client_for: ClientFor, endpoint: str, setup: str, actor: str, expected: str
) -> None:
    if setup == "no_therapist":
        Membership.objects.filter(couple=world.couple, user=world.therapist).update(
            left_at=timezone.now()
        )
        # Sent by a partner, as the service stores it: waiting for the other's approval.
        invitation, token = make_invitation(
            couple=world.couple, invited_by=world.partner, role="therapist", approvals=[]
        )
    else:
        invitation, token = make_invitation(
            couple=world.couple, invited_by=world.therapist, role="therapist"
        )
    scene = Scene(world=world, invitation=invitation, token=token)
    call = CALLS[endpoint]

    response = getattr(client_for(world.actor(actor)), call.method)(
        call.path(scene), call.body(scene)
    )

    if expected in ("listed", "hidden"):
        assert response.status_code == 200, response.content
        assert call.listed is not None
        ids = {item["id"] for item in response.json()["results"]}
        assert (call.listed(scene) in ids) == (expected == "listed")
    else:
        assert response.status_code == int(expected), response.content
