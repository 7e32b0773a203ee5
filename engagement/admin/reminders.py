"""Admin of the check-in reminder ledger: read-only (docs/reminders.md)."""

from __future__ import annotations

from django.contrib import admin

from config.admin_base import person_search_fields
from engagement.admin.ledger import LedgerAdmin
from engagement.admin.ledger import ledger_fields
from engagement.models import ReminderDelivery


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(LedgerAdmin[ReminderDelivery]):
    # A failed row whose outcome is unknown is never sent again: a reminder is at most daily,
    # and one lost costs less than one doubled.
    list_display = ("local_date", "user", "channel", "status", "sent_at", "short_error")
    list_filter = ("status", "channel")
    list_select_related = ("user",)
    search_fields = person_search_fields("user")
    date_hierarchy = "local_date"
    autocomplete_fields = ("user",)
    fields = ledger_fields("user", "local_date", "channel")
