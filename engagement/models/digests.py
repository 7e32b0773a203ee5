"""Digest deliveries: one row per (user, kind, week), claimed before sending so mail goes once."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from config.model_base import UUIDModel
from engagement.models.couples import Membership
from engagement.models.ledger import DeliveryStatus
from engagement.models.ledger import LedgerRow


class DigestDelivery(UUIDModel, LedgerRow):
    """The exactly-once ledger of weekly digests (SPEC section 7)."""

    # A partner's digest or a therapist's: the role its reader holds in their couples.
    Kind = Membership.Role

    Status = DeliveryStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries"
    )
    kind = models.CharField(max_length=9, choices=Kind.choices)
    week_start = models.DateField()
    # With the ledger's state and claim (LedgerRow): retries with backoff, and the Message-ID.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True, default="")

    # Not LedgerRow.Meta: the one index here serves the retries' schedule, not the claim sweep.
    class Meta:
        verbose_name_plural = "digest deliveries"
        ordering = ("-week_start", "user_id")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "week_start"], name="digest_once_per_user_kind_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} digest {self.week_start} ({self.status})"
