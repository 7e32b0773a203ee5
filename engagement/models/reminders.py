"""Check-in reminders: one ledger row per (user, local date), claimed before sending."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from config.model_base import UUIDModel
from engagement.models.ledger import DeliveryStatus
from engagement.models.ledger import LedgerRow


class ReminderDelivery(UUIDModel, LedgerRow):
    """The exactly-once ledger of check-in reminders (SPEC section 6).

    ``local_date`` is the day in the user's timezone the reminder is for; the unique
    (user, local_date) key makes a second plan of the same reminder a no-op.
    """

    class Channel(models.TextChoices):
        PUSH = "push", "Push"
        EMAIL = "email", "Email"

    Status = DeliveryStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_deliveries"
    )
    local_date = models.DateField()
    channel = models.CharField(max_length=5, choices=Channel.choices)

    class Meta(LedgerRow.Meta):
        verbose_name_plural = "reminder deliveries"
        ordering = ("-local_date", "user_id")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "local_date"], name="reminder_once_per_user_and_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} reminder {self.local_date} ({self.status})"
