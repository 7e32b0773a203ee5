"""Admin of the safety feature for staff: alerts and their deliveries, read-only.

An alert shows who, which couple and which day, never anything of the check-in (its text, its
ratings, its visibility): staff see that an alert exists and whether it reached the therapists.
The deliveries list is where an operator finds a message never sent (failed, or outcome
unknown), to make sure the therapist learns of the alert another way (docs/safety.md).
A safe contact shows only whose it is and when it changed, never how to reach the partner:
that is for the couple's therapists, through the API. Consents are listed as accepted.
"""

from __future__ import annotations

from django.contrib import admin

from config.admin_base import ViewOnlyAdmin
from config.admin_base import ViewOnlyTabularInline
from engagement.admin.ledger import LedgerAdmin
from engagement.admin.ledger import ledger_fields
from engagement.models import Consent
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models import SafetyAlertDelivery
from engagement.models.safety import SAFETY_ALERT_SHOWN_FIELDS


class SafetyAlertDeliveryInline(ViewOnlyTabularInline[SafetyAlertDelivery, SafetyAlert]):
    model = SafetyAlertDelivery
    fields = ("round", "recipient", "address", "status", "sent_at", "push_outcome", "error")
    readonly_fields = fields


@admin.register(SafetyAlert)
class SafetyAlertAdmin(ViewOnlyAdmin[SafetyAlert]):
    list_display = ("date", "couple", "created_at", "retracted_at", "acknowledged_at")
    list_filter = (
        ("acknowledged_at", admin.EmptyFieldListFilter),
        ("retracted_at", admin.EmptyFieldListFilter),
    )
    list_select_related = ("couple",)
    search_fields = ("couple__name",)
    date_hierarchy = "created_at"
    fields = SAFETY_ALERT_SHOWN_FIELDS
    readonly_fields = fields
    inlines = (SafetyAlertDeliveryInline,)


@admin.register(SafetyAlertDelivery)
class SafetyAlertDeliveryAdmin(LedgerAdmin[SafetyAlertDelivery]):
    list_display = ("created_at", "alert", "round", "to", "status", "sent_at", "short_error")
    list_filter = ("status", "round")
    list_select_related = ("recipient", "alert")
    search_fields = ("message_id", "recipient__email", "address")
    fields = ledger_fields(
        "alert", "round", "recipient", "address", outcome=("message_id", "push_outcome")
    )
    readonly_fields = fields

    @admin.display(description="to")
    def to(self, row: SafetyAlertDelivery) -> str:
        return row.recipient.email if row.recipient is not None else row.address


@admin.register(SafeContact)
class SafeContactAdmin(ViewOnlyAdmin[SafeContact]):
    # Never the phone, address or times: staff need not know how to reach a partner safely.
    list_display = ("couple", "partner", "updated_at")
    list_select_related = ("couple", "partner")
    search_fields = ("couple__name", "partner__email")
    fields = ("id", "couple", "partner", "updated_at")
    readonly_fields = fields


@admin.register(Consent)
class ConsentAdmin(ViewOnlyAdmin[Consent]):
    list_display = ("user", "document", "version", "accepted_at")
    list_filter = ("document",)
    list_select_related = ("user",)
    search_fields = ("user__email", "document", "version")
    fields = ("id", "user", "document", "version", "accepted_at")
    readonly_fields = fields
