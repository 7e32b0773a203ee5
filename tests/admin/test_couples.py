"""Couples in the admin: members and status history inline, settings changed through the
service, ended couples read-only; invitations revoked through the service."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Invitation
from tests.factories import make_couple
from tests.factories import make_invitation

pytestmark = pytest.mark.django_db


def _url(couple: Couple) -> str:
    return f"/admin/engagement/couple/{couple.pk}/change/"


def _form(couple: Couple, **changes: Any) -> dict[str, Any]:
    """The couple's change form as a browser posts it (inlines are read-only: no formsets
    to send but their management forms)."""
    data: dict[str, Any] = {
        "name": couple.name,
        "timezone": couple.timezone,
        "checkin_target_per_week": couple.checkin_target_per_week,
        "status": couple.status,
    }
    if couple.partners_see_balance:
        data["partners_see_balance"] = "on"
    if couple.safety_hold:
        data["safety_hold"] = "on"
    for prefix in ("memberships", "status_changes"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    data.update(changes)
    return data


def test_the_couple_page_shows_its_members_and_status_history(staff_client: Client) -> None:
    couple, p1, p2, therapist = make_couple(name="K & L")
    assert therapist is not None

    page = staff_client.get(_url(couple)).content.decode()

    for user in (p1, p2, therapist):
        assert user.email in page
    assert "status history" in page.lower()
    assert 'name="memberships-0-user"' not in page  # read-only inline


def test_the_couple_list_names_members_and_finds_couples_by_a_partners_email(
    staff_client: Client,
) -> None:
    couple, p1, _, _ = make_couple(name="M & N")
    make_couple(name="O & P")

    response = staff_client.get("/admin/engagement/couple/", {"q": p1.email})

    assert [c.pk for c in response.context["cl"].result_list] == [couple.pk]
    assert p1.display_name in response.content.decode()


def test_changing_a_couples_settings_goes_through_the_service(staff_client: Client) -> None:
    couple, *_ = make_couple(name="Q & R")

    response = staff_client.post(_url(couple), _form(couple, status="paused", name="Q+R"))

    assert response.status_code == 302
    couple.refresh_from_db()
    assert (couple.name, couple.status) == ("Q+R", "paused")
    # couple_update recorded the pause: the report pipeline skips that week.
    assert list(couple.status_changes.values_list("status", flat=True)) == ["active", "paused"]
    assert LogEntry.objects.filter(object_id=str(couple.pk)).exists()


def test_ending_a_couple_in_the_admin_revokes_its_pending_invitations(
    staff_client: Client,
) -> None:
    couple, _, _, therapist = make_couple()
    assert therapist is not None
    invitation, _ = make_invitation(couple=couple, invited_by=therapist)

    staff_client.post(_url(couple), _form(couple, status="ended"))

    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert CoupleStatusChange.objects.filter(couple=couple, status="ended").exists()


def test_an_ended_couple_is_read_only(staff_client: Client) -> None:
    couple, *_ = make_couple(status="ended")

    page = staff_client.get(_url(couple)).content.decode()
    response = staff_client.post(_url(couple), _form(couple, status="active"))

    assert 'name="_save"' not in page
    assert response.status_code == 403
    couple.refresh_from_db()
    assert couple.status == "ended"


def test_couples_are_not_added_or_deleted_in_the_admin(staff_client: Client) -> None:
    couple, *_ = make_couple()

    assert staff_client.get("/admin/engagement/couple/add/").status_code == 403
    assert staff_client.get(f"/admin/engagement/couple/{couple.pk}/delete/").status_code == 403


def test_the_couple_page_links_to_its_rows_elsewhere(staff_client: Client) -> None:
    couple, *_ = make_couple()

    page = staff_client.get(_url(couple)).content.decode()

    assert f"/admin/engagement/weeklyreport/?couple__id__exact={couple.pk}" in page
    assert f"/admin/engagement/checkin/?couple__id__exact={couple.pk}" in page
    response = staff_client.get(f"/admin/engagement/weeklyreport/?couple__id__exact={couple.pk}")
    assert response.status_code == 200


def _revoke(client: Client, *invitations: Invitation) -> str:
    response = client.post(
        "/admin/engagement/invitation/",
        {"action": "revoke", "_selected_action": [str(i.pk) for i in invitations]},
        follow=True,
    )
    return " ".join(str(m) for m in response.context["messages"])


def test_revoking_invitations_goes_through_the_service(staff_client: Client) -> None:
    couple, partner, _, _ = make_couple()
    pending, _ = make_invitation(couple=couple, invited_by=partner)
    accepted, _ = make_invitation(
        couple=couple, invited_by=partner, email="in@example.com", status="accepted"
    )

    message = _revoke(staff_client, pending, accepted)

    pending.refresh_from_db()
    accepted.refresh_from_db()
    assert (pending.status, accepted.status) == ("revoked", "accepted")
    assert "1 invitation(s) revoked" in message
    assert "1 were already accepted and cannot be revoked" in message
    assert LogEntry.objects.filter(object_id=str(pending.pk)).exists()


def test_the_invitation_page_never_shows_the_token_hash(staff_client: Client) -> None:
    couple, partner, _, _ = make_couple()
    invitation, _ = make_invitation(couple=couple, invited_by=partner)

    page = staff_client.get(f"/admin/engagement/invitation/{invitation.pk}/change/")

    assert invitation.token_hash not in page.content.decode()
