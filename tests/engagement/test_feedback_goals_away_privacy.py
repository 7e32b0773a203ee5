"""Session feedback, goals and away periods in the export, the erasure and the admin: the
caller's own in their export, all of it gone with their account, and read-only for staff with
no private text in a list (docs/privacy.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import User
from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import Goal
from engagement.models import Removal
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from tests.conftest import ClientFor
from tests.conftest import World
from tests.factories import PASSWORD
from tests.factories import TherapySessionFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def _everything(world: World) -> TherapySession:
    """Feedback, two goals and an away period of each partner."""
    session: TherapySession = TherapySessionFactory.create(couple=world.couple)
    for n, partner in enumerate((world.partner, world.other_partner)):
        Attendance.objects.create(session=session, partner=partner, status="attended")
        SessionFeedback.objects.create(
            session=session,
            partner=partner,
            understood=n,
            helpful=n,
            spoke_freely=n,
            coming_back=n,
            comment=f"comment of partner {n}",
        )
        Goal.objects.create(couple=world.couple, partner=partner, goal="unsure", note=f"note {n}")
        Goal.objects.create(couple=world.couple, partner=partner, goal="decide")
        AwayPeriod.objects.create(
            couple=world.couple,
            partner=partner,
            starts_on=TODAY,
            ends_on=TODAY,
            reason="travel" if n else "",
            visibility="couple",
        )
    return session


def test_the_export_holds_the_callers_own_feedback_goals_and_away_periods(
    world: World, client_for: ClientFor
) -> None:
    session = _everything(world)
    export = client_for(world.partner).get("/api/v1/me/export/").json()
    assert [(f["session"], f["comment"]) for f in export["session_feedback"]] == [
        (str(session.pk), "comment of partner 0")
    ]
    assert [(g["goal"], g["note"]) for g in export["goals"]] == [
        ("unsure", "note 0"),
        ("decide", ""),
    ]
    [away] = export["away_periods"]
    assert (away["couple"], away["reason"], away["visibility"]) == (
        str(world.couple.pk),
        None,
        "couple",
    )
    assert AwayPeriod.objects.get(pk=away["id"]).partner == world.partner
    # A therapist's export holds none of their clients' answers.
    therapist = client_for(world.therapist).get("/api/v1/me/export/").json()
    assert therapist["session_feedback"] == therapist["goals"] == therapist["away_periods"] == []


def test_erasure_deletes_them_and_tells_those_who_read_the_away_period(
    world: World, client_for: ClientFor
) -> None:
    _everything(world)
    own_away = AwayPeriod.objects.get(partner=world.partner)
    response = client_for(world.partner).delete(
        "/api/v1/me/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 204
    assert not SessionFeedback.objects.filter(partner=world.partner).exists()
    assert not Goal.objects.filter(partner=world.partner).exists()
    assert not AwayPeriod.objects.filter(partner=world.partner).exists()
    # The other partner's stay; both readers of the erased person's period are told.
    assert SessionFeedback.objects.filter(partner=world.other_partner).exists()
    assert Goal.objects.filter(partner=world.other_partner).count() == 2
    assert set(
        Removal.objects.filter(object_id=own_away.pk, type="away").values_list("user_id", flat=True)
    ) == {world.other_partner.pk, world.therapist.pk}


@pytest.fixture
def staff_client(db: None) -> Client:
    staff = User.objects.create_superuser(
        "staff@example.com", "staff-long-passphrase", display_name="Sam Staff"
    )
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    ("model", "text"),
    [("sessionfeedback", "comment of partner"), ("goal", "note 0"), ("awayperiod", None)],
)
def test_staff_read_them_without_private_text_in_lists_and_change_nothing(
    world: World, staff_client: Client, model: str, text: str | None
) -> None:
    _everything(world)
    listing = staff_client.get(f"/admin/engagement/{model}/")
    assert listing.status_code == 200
    if text is not None:
        assert text not in listing.content.decode()
        # Nor can a filter in the URL find rows by what they say.
        field = "comment" if model == "sessionfeedback" else "note"
        probe = staff_client.get(f"/admin/engagement/{model}/", {f"{field}__icontains": "partner"})
        assert probe.status_code == 400
    assert staff_client.get(f"/admin/engagement/{model}/add/").status_code == 403
    row = {
        "sessionfeedback": SessionFeedback,
        "goal": Goal,
        "awayperiod": AwayPeriod,
    }[model]._default_manager.first()
    assert row is not None
    page = staff_client.get(f"/admin/engagement/{model}/{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert staff_client.post(f"/admin/engagement/{model}/{row.pk}/delete/").status_code == 403
