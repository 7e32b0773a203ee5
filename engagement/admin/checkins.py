"""Admin of check-ins: ratings for staff, the text of private ones never (SPEC section 1)."""

# A private check-in's note is its author's alone: staff never read it, in any page, search,
# filter, sort, log or export. So `note` is in no form, column or search field; a filter on it
# in the URL (`?note__icontains=...`, which Django would otherwise allow on a local field) is
# refused, since which rows it matched would tell what they say; and the admin's querysets
# leave the column unread (`defer`), loading it only to show a note that is not private.

from __future__ import annotations

from django.contrib import admin

from config.admin_base import person_search_fields
from engagement.admin.audit import AuditedReadsMixin
from engagement.admin.deletion import DeletedThroughServiceAdmin
from engagement.admin.withheld import OwnPageTextAdmin
from engagement.models import CheckIn
from engagement.models import Visibility
from engagement.models.checkins import SCALES
from engagement.services.checkins import checkin_delete

PRIVATE_NOTE_SHOWN_AS = "(private — not shown)"


def note_for_staff(checkin: CheckIn) -> str:
    """The note as staff may read it: a private check-in's stays out, empty or not (whether
    there is one is already something)."""
    if checkin.visibility == Visibility.PRIVATE:
        return PRIVATE_NOTE_SHOWN_AS
    return checkin.note or "-"


@admin.register(CheckIn)
class CheckInAdmin(
    AuditedReadsMixin, OwnPageTextAdmin[CheckIn], DeletedThroughServiceAdmin[CheckIn]
):
    audit_object_type = "checkin"
    own_page_text = "note"
    list_display = (
        "date",
        "couple",
        "author",
        "visibility",
        *SCALES,
        "updated_at",
    )
    list_filter = ("visibility",)
    list_select_related = ("couple", "author")
    search_fields = ("couple__name", *person_search_fields("author"))
    date_hierarchy = "date"
    autocomplete_fields = ("couple", "author")
    exclude = ("note",)
    fields = (
        "id",
        "couple",
        "author",
        "date",
        "visibility",
        *SCALES,
        "note_shown",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("note_shown",)

    @admin.display(description="note")
    def note_shown(self, checkin: CheckIn) -> str:
        return note_for_staff(checkin)

    def delete_through_service(self, obj: CheckIn) -> None:
        checkin_delete(checkin=obj)
