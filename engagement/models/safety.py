"""Safety alerts: an `afraid_or_hurt` answer reaching the couple's therapists (SPEC sections 1, 2).

One alert per change of a check-in's answer to true in a couple with a therapist. Editing the
answer back or deleting the check-in only sets `retracted_at`: the alert and its date stay.
Therapists only; nothing of it is observable by the other partner.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from engagement.models.checkins import CheckIn
from engagement.models.couples import Couple


class SafetyAlert(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="safety_alerts")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_alerts"
    )
    # The check-in that raised it; null once that check-in is deleted (the alert stays).
    checkin = models.ForeignKey(
        CheckIn, on_delete=models.SET_NULL, null=True, blank=True, related_name="safety_alerts"
    )
    date = models.DateField()  # the check-in's local date
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "id")
        indexes = [
            models.Index(fields=["couple", "created_at"]),
            models.Index(
                fields=["couple"],
                name="safety_alert_unacknowledged",
                condition=models.Q(acknowledged_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Safety alert {self.date}"
