"""The text of a private check-in appears on no admin page (SPEC section 1), while staff read
therapist- and couple-visible notes, and every check-in page they open is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from engagement.admin.checkins import PRIVATE_NOTE_SHOWN_AS
from engagement.models import AuditEvent
from engagement.models import CheckIn
from engagement.models import Removal
from tests.factories import CheckInFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

SECRET_WORD = "quixotrel"  # a word that appears nowhere else in the admin
# Searched for: a search page echoes its term, so the search is for another word of the note.
SEARCH_WORD = "marmalade"
PRIVATE_NOTE = f"Nobody may read this: {SEARCH_WORD} {SECRET_WORD} 7731"
THERAPIST_NOTE = "Shared with my therapist: the weekend went well"
COUPLE_NOTE = "For both of us: thank you for Sunday"


@pytest.fixture
def checkins() -> dict[str, CheckIn]:
    couple, partner, other_partner, _ = make_couple()
    today = dt.date.today()

    def checkin(author: User, visibility: str, note: str, **fields: Any) -> CheckIn:
        return CheckInFactory.create(
            couple=couple, author=author, visibility=visibility, note=note, **fields
        )

    return {
        "private": checkin(partner, "private", PRIVATE_NOTE, mood=2),
        "therapist": checkin(
            other_partner, "therapist", THERAPIST_NOTE, date=today - dt.timedelta(days=1)
        ),
        "couple": checkin(partner, "couple", COUPLE_NOTE, date=today - dt.timedelta(days=2)),
    }


def _page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def test_private_note_text_is_on_no_admin_page_of_the_checkin(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    private = checkins["private"]
    base = "/admin/engagement/checkin/"
    # A second private check-in deleted through the admin, so that the admin's own log has
    # an entry about a private check-in to show.
    deleted = CheckInFactory.create(
        couple=private.couple,
        author=private.author,
        date=private.date - dt.timedelta(days=3),
        visibility="private",
        note=f"Also mine alone: {SEARCH_WORD} {SECRET_WORD}",
    )
    assert staff_client.post(f"{base}{deleted.pk}/delete/", {"post": "yes"}).status_code == 302
    staff_client.get(f"{base}{private.pk}/change/")  # an audit event about it, to list
    entry = LogEntry.objects.get(object_id=str(deleted.pk))
    audit = AuditEvent.objects.filter(action="checkin.view").latest("at")
    user = private.author

    pages = {
        "changelist": _page(staff_client, base),
        "search for a word of the note": _page(staff_client, f"{base}?q={SEARCH_WORD}"),
        "change page": _page(staff_client, f"{base}{private.pk}/change/"),
        "history": _page(staff_client, f"{base}{private.pk}/history/"),
        "delete confirmation": _page(staff_client, f"{base}{private.pk}/delete/"),
        "couple's check-ins": _page(staff_client, f"{base}?couple__id__exact={private.couple_id}"),
        "couple page": _page(staff_client, f"/admin/engagement/couple/{private.couple_id}/change/"),
        "author page": _page(staff_client, f"/admin/accounts/user/{user.pk}/change/"),
        "author delete confirmation": _page(
            staff_client, f"/admin/accounts/user/{user.pk}/delete/"
        ),
        "audit events": _page(staff_client, "/admin/engagement/auditevent/"),
        "audit event": _page(staff_client, f"/admin/engagement/auditevent/{audit.pk}/change/"),
        "admin log": _page(staff_client, "/admin/admin/logentry/"),
        "admin log search": _page(staff_client, f"/admin/admin/logentry/?q={SEARCH_WORD}"),
        "admin log entry": _page(staff_client, f"/admin/admin/logentry/{entry.pk}/change/"),
        "removals": _page(staff_client, "/admin/engagement/removal/"),
    }

    for name, html in pages.items():
        assert SECRET_WORD not in html, name
    assert PRIVATE_NOTE_SHOWN_AS in pages["change page"]


def test_searching_a_word_of_a_private_note_finds_nothing(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    response = staff_client.get(f"/admin/engagement/checkin/?q={SEARCH_WORD}")

    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize(
    "lookup",
    ["note__icontains", "note", "note__startswith", "note__regex", "author__checkins__note"],
)
def test_filtering_on_the_note_in_the_url_is_refused(
    staff_client: Client, checkins: dict[str, CheckIn], lookup: str
) -> None:
    # Which rows a filter keeps would say what their notes contain.
    response = staff_client.get(f"/admin/engagement/checkin/?{lookup}={SECRET_WORD}")

    assert response.status_code == 400
    assert SECRET_WORD not in response.content.decode()


def test_the_checkin_list_never_reads_notes_from_the_database(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert staff_client.get("/admin/engagement/checkin/").status_code == 200

    assert not any('"note"' in query["sql"] for query in queries.captured_queries)


def test_the_private_checkin_page_loads_no_note(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    with CaptureQueriesContext(connection) as queries:
        page = _page(staff_client, f"/admin/engagement/checkin/{checkins['private'].pk}/change/")

    assert PRIVATE_NOTE_SHOWN_AS in page
    assert not any('"note"' in query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize("visibility", ["therapist", "couple"])
def test_staff_read_notes_that_are_not_private(
    staff_client: Client, checkins: dict[str, CheckIn], visibility: str
) -> None:
    checkin = checkins[visibility]

    page = _page(staff_client, f"/admin/engagement/checkin/{checkin.pk}/change/")

    assert checkin.note in page
    assert PRIVATE_NOTE_SHOWN_AS not in page


def test_the_checkin_page_offers_no_form_field_for_the_note(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    response = staff_client.get(f"/admin/engagement/checkin/{checkins['therapist'].pk}/change/")

    assert 'name="note"' not in response.content.decode()
    assert 'name="_save"' not in response.content.decode()  # read-only page


def test_opening_a_checkin_is_audited(
    staff: User, staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    checkin = checkins["private"]

    staff_client.get(f"/admin/engagement/checkin/{checkin.pk}/change/")

    event = AuditEvent.objects.get(action="checkin.view")
    assert event.channel == AuditEvent.Channel.ADMIN
    assert event.actor == staff
    assert event.object_type == "checkin"
    assert event.object_ids == [str(checkin.pk)]
    assert event.couple_id == checkin.couple_id


def test_listing_checkins_is_audited_once_per_couple_with_the_ids_shown(
    staff: User, staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    other_couple, author, _, _ = make_couple()
    elsewhere = CheckInFactory.create(couple=other_couple, author=author, visibility="couple")

    staff_client.get("/admin/engagement/checkin/")

    events = {e.couple_id: e for e in AuditEvent.objects.filter(action="checkin.list")}
    assert set(events) == {checkins["private"].couple_id, other_couple.pk}
    ours = events[checkins["private"].couple_id]
    assert (ours.actor, ours.channel) == (staff, "admin")
    assert sorted(ours.object_ids) == sorted(str(c.pk) for c in checkins.values())
    assert events[other_couple.pk].object_ids == [str(elsewhere.pk)]


def test_a_missing_checkin_writes_no_audit_event(staff_client: Client) -> None:
    staff_client.get("/admin/engagement/checkin/00000000-0000-0000-0000-000000000000/change/")

    assert not AuditEvent.objects.exists()


def test_deleting_a_checkin_in_the_admin_goes_through_the_service(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    checkin = checkins["couple"]

    response = staff_client.post(f"/admin/engagement/checkin/{checkin.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not CheckIn.objects.filter(pk=checkin.pk).exists()
    # Everyone who could see it syncs its removal: both partners and the therapist.
    assert Removal.objects.filter(object_id=checkin.pk, type="checkin").count() == 3


def test_checkins_of_an_ended_couple_cannot_be_deleted(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    checkin = checkins["couple"]
    checkin.couple.status = "ended"
    checkin.couple.save()

    response = staff_client.post(f"/admin/engagement/checkin/{checkin.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert CheckIn.objects.filter(pk=checkin.pk).exists()


def test_checkins_are_never_added_or_changed_in_the_admin(
    staff_client: Client, checkins: dict[str, CheckIn]
) -> None:
    checkin = checkins["couple"]

    assert staff_client.get("/admin/engagement/checkin/add/").status_code == 403
    response = staff_client.post(
        f"/admin/engagement/checkin/{checkin.pk}/change/", {"note": "overwritten"}
    )
    assert response.status_code == 403
    checkin.refresh_from_db()
    assert checkin.note == COUPLE_NOTE
