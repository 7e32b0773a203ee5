"""The other partner probes list and detail ETags for what they cannot read (SPEC section 1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import World
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory


def test_a_private_checkin_of_the_other_partner_never_moves_the_list_tag(
    world: World, client_for: Callable[[User | None], APIClient]
) -> None:
    attacker = client_for(world.partner)
    path = f"/api/v1/checkins/?couple={world.couple.pk}"
    etag = attacker.get(path)["ETag"]
    CheckInFactory.create(couple=world.couple, author=world.other_partner, visibility="private")
    CheckInFactory.create(
        couple=world.couple,
        author=world.other_partner,
        visibility="therapist",
        date=timezone.now().date() - dt.timedelta(days=1),
    )
    assert attacker.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_therapist_only_commitment_never_moves_the_list_tag(
    world: World, client_for: Callable[[User | None], APIClient]
) -> None:
    attacker = client_for(world.partner)
    etag = attacker.get("/api/v1/commitments/")["ETag"]
    CommitmentFactory.create(couple=world.couple, owner=world.other_partner, visibility="therapist")
    assert attacker.get("/api/v1/commitments/", HTTP_IF_NONE_MATCH=etag).status_code == 304
