"""What the admin of every exactly-once ledger (digests, reminders, safety alert deliveries)
shows alike: the columns of a ledger row (engagement/models/ledger.py) and a failed row's
error cut short in lists."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin

from config.admin_base import ViewOnlyAdmin
from engagement.models.ledger import LedgerRow

_L = TypeVar("_L", bound=LedgerRow)

# A list shows an error's first characters; the row's page shows it whole.
SHORT_ERROR_LENGTH = 40


def ledger_fields(
    *own: str, retries: tuple[str, ...] = (), outcome: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """A ledger row's page: its id, what it is about (`own`), then its state: the status, the
    retry schedule (`retries`) of a ledger that retries, the claim, the send, what the send
    left (`outcome`: a Message-ID, a push's answer), the error and the row's timestamps."""
    return (
        "id",
        *own,
        "status",
        *retries,
        "claimed_at",
        "sent_at",
        *outcome,
        "error",
        "created_at",
        "updated_at",
    )


class LedgerAdmin(ViewOnlyAdmin[_L]):
    """Read-only, like every ledger: a row changes only through its sender (the exactly-once
    rules of docs/operations.md)."""

    @admin.display(description="error")
    def short_error(self, row: _L) -> str:
        if len(row.error) <= SHORT_ERROR_LENGTH:
            return row.error
        return row.error[: SHORT_ERROR_LENGTH - 1] + "…"
