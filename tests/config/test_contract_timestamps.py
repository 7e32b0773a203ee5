"""Every timestamp the API writes has milliseconds and `Z`, always the same width
(SPEC section 3), so one client formatter reads them all."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import World
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory

_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT")
_API_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_every_timestamp_is_fixed_width_milliseconds_with_z(
    world: World, client_for: Callable[[User | None], APIClient]
) -> None:
    CheckInFactory.create(couple=world.couple, author=world.partner)
    CommitmentFactory.create(couple=world.couple, owner=world.partner)
    TherapySessionFactory.create(couple=world.couple)
    couple = world.couple.pk
    paths = [
        "/api/v1/meta/",
        "/api/v1/me/",
        "/api/v1/me/export/",
        "/api/v1/couples/",
        f"/api/v1/couples/{couple}/",
        "/api/v1/commitments/",
        f"/api/v1/checkins/?couple={couple}",
        "/api/v1/sessions/",
        f"/api/v1/reports/current/?couple={couple}",
        "/api/v1/invitations/",
    ]
    seen = 0
    for user in (world.partner, world.therapist):
        client = client_for(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            for text in _strings(response.json()):
                if _DATETIME.match(text):
                    seen += 1
                    assert _API_TIMESTAMP.fullmatch(text), (path, text)
    assert seen > 20
