"""Staff read safety alerts and their deliveries in the admin, never anything of the check-in,
and find there the messages never sent."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models import SafetyAlertDelivery
from tests.factories import CheckInFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

NOTE = "He took my phone and I am scared"


def test_the_alert_pages_show_no_checkin_text_and_no_safe_contact(staff_client: Client) -> None:
    couple, partner, _, therapist = make_couple()
    checkin = CheckInFactory.create(
        couple=couple,
        author=partner,
        date=timezone.localdate(),
        visibility="private",
        note=NOTE,
        afraid_or_hurt=True,
    )
    alert = SafetyAlert.objects.create(
        couple=couple, partner=partner, checkin=checkin, date=checkin.date
    )
    SafetyAlertDelivery.objects.create(
        alert=alert, recipient=therapist, status="failed", error="refused (550): no such user"
    )
    SafeContact.objects.create(couple=couple, partner=partner, phone="+34 600 999 888")
    pages = [
        "/admin/engagement/safetyalert/",
        f"/admin/engagement/safetyalert/{alert.pk}/change/",
        "/admin/engagement/safetyalertdelivery/",
        "/admin/engagement/safecontact/",
        f"/admin/engagement/safecontact/{SafeContact.objects.get().pk}/change/",
    ]
    for page in pages:
        response = staff_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert NOTE not in html, page
        assert "600 999 888" not in html, page
    unsent = staff_client.get("/admin/engagement/safetyalertdelivery/", {"status__exact": "failed"})
    assert "refused (550)" in unsent.content.decode()


def test_staff_cannot_change_or_delete_an_alert(staff_client: Client) -> None:
    couple, partner, _, _ = make_couple()
    alert = SafetyAlert.objects.create(couple=couple, partner=partner, date=timezone.localdate())
    response = staff_client.post(
        f"/admin/engagement/safetyalert/{alert.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert SafetyAlert.objects.filter(pk=alert.pk).exists()
