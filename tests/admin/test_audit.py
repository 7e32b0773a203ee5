"""The audit log in the admin: written for every staff read of clinical pages, never changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from engagement.models import Attendance
from engagement.models import AuditEvent
from engagement.models import TherapySession
from tests.factories import make_couple

pytestmark = pytest.mark.django_db


@pytest.fixture
def session() -> TherapySession:
    couple, p1, p2, therapist = make_couple()
    session = TherapySession.objects.create(
        couple=couple,
        kind="joint",
        starts_at=timezone.now() - dt.timedelta(days=1),
        status="completed",
        therapist_notes="Guarded at first; opened up about work.",
        created_by=therapist,
    )
    Attendance.objects.create(session=session, partner=p1, status="attended", participation=2)
    Attendance.objects.create(session=session, partner=p2, status="late", participation=1)
    return session


def test_the_session_page_shows_attendance_and_notes_read_only_and_is_audited(
    staff: User, staff_client: Client, session: TherapySession
) -> None:
    page = staff_client.get(
        f"/admin/engagement/therapysession/{session.pk}/change/"
    ).content.decode()

    assert "Guarded at first; opened up about work." in page
    assert 'name="therapist_notes"' not in page
    for attendance in session.attendance.select_related("partner"):
        assert attendance.partner.email in page
    event = AuditEvent.objects.get(action="session.view")
    assert (event.actor, event.object_ids) == (staff, [str(session.pk)])


def test_therapist_notes_are_not_searchable(staff_client: Client, session: TherapySession) -> None:
    response = staff_client.get("/admin/engagement/therapysession/", {"q": "Guarded"})

    assert response.context["cl"].result_count == 0


def test_audit_events_are_listed_by_channel_and_never_changed_or_deleted(
    staff_client: Client,
) -> None:
    event = AuditEvent.objects.create(
        channel="api", action="report.retrieve", object_type="report", object_ids=[]
    )

    listed = staff_client.get("/admin/engagement/auditevent/", {"channel__exact": "api"})

    assert [e.pk for e in listed.context["cl"].result_list] == [event.pk]
    assert staff_client.get("/admin/engagement/auditevent/add/").status_code == 403
    assert staff_client.get(f"/admin/engagement/auditevent/{event.pk}/delete/").status_code == 403
    page = staff_client.get(f"/admin/engagement/auditevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in page
