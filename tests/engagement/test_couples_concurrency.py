"""Never more than two partners, even when people accept invitations at the same instant.

Needs PostgreSQL (real row locks and concurrent transactions), so it is an integration test:
CI runs it with DATABASE_URL pointing at PostgreSQL; elsewhere it skips and says why.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from engagement.models import Invitation
from engagement.models import Membership
from tests.conftest import ClientFor
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation

ACCEPT = "/api/v1/invitations/accept/"
PEOPLE = 6


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("partners_before", "places_left"), [(1, 1), (0, 2)])
def test_people_accepting_at_the_same_moment_never_make_a_third_partner(
    client_for: ClientFor, partners_before: int, places_left: int
) -> None:
    couple, partner, other, therapist = make_couple()
    assert therapist is not None
    leaving = [partner, other][partners_before:]
    Membership.objects.filter(couple=couple, user__in=leaving).update(
        left_at=timezone.now(), partner_slot=None
    )
    tokens = [
        make_invitation(couple=couple, invited_by=therapist, email=f"p{n}@example.com")[1]
        for n in range(PEOPLE)
    ]
    people = [UserFactory.create() for _ in range(PEOPLE)]
    clients = [client_for(person) for person in people]  # tokens issued before the race
    start = threading.Barrier(PEOPLE)

    def accept(client: APIClient, token: str) -> tuple[int, str]:
        try:
            start.wait(timeout=10)
            response = client.post(ACCEPT, {"token": token})
            code = "" if response.status_code == 200 else response.json()["errors"][0]["code"]
            return response.status_code, code
        finally:
            connection.close()  # each thread had its own connection

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        answers = list(pool.map(accept, clients, tokens))

    assert sorted(answers) == sorted(
        [(200, "")] * places_left + [(409, "partner_limit")] * (PEOPLE - places_left)
    )
    active = Membership.objects.filter(couple=couple, role="partner", left_at__isnull=True)
    assert active.count() == 2
    assert set(active.values_list("partner_slot", flat=True)) == {1, 2}
    accepted = Invitation.objects.filter(couple=couple, status="accepted")
    assert accepted.count() == places_left
