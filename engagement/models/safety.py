"""Safety alerts: an `afraid_or_hurt` answer reaching the couple's therapists (SPEC sections 1, 2).

One alert per change of a check-in's answer to true in a couple with a therapist. Editing the
answer back or deleting the check-in only sets `retracted_at`: the alert and its date stay.
Therapists only; nothing of it is observable by the other partner.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.model_base import UUIDModel
from engagement.models.checkins import CheckIn
from engagement.models.couples import Couple
from engagement.models.ledger import LedgerRow

# What of an alert anyone is shown, in the API (therapists) and the admin (staff): who and which
# day, never the check-in.
SAFETY_ALERT_SHOWN_FIELDS = (
    "id",
    "couple",
    "partner",
    "date",
    "created_at",
    "retracted_at",
    "acknowledged_by",
    "acknowledged_at",
)


class SafetyAlert(UUIDModel):
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
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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


class SafetyAlertDelivery(UUIDModel, LedgerRow):
    """The exactly-once ledger of safety alert sends (SPEC section 6): one row per alert,
    recipient and round, claimed before anything goes out (LedgerRow, as the digests' ledger).

    Round 1 goes out when the alert is created; round 2 when it is still unacknowledged 24 hours
    later, with a copy to SAFETY_ESCALATION_EMAIL (a row with no recipient user, `address` set).
    A row never sent (failed, or a claim whose worker died) stays for operators: the admin lists
    it and `/readyz` reports it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    INITIAL, REMINDER = 1, 2

    alert = models.ForeignKey(SafetyAlert, on_delete=models.CASCADE, related_name="deliveries")
    round = models.PositiveSmallIntegerField(default=INITIAL)
    # The therapist it goes to; null for the escalation copy, which goes to `address`.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="safety_alert_deliveries",
    )
    address = models.EmailField(blank=True, default="")
    # The ledger's states but `skipped`.
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    message_id = models.CharField(max_length=255, blank=True, default="")
    push_outcome = models.CharField(max_length=200, blank=True, default="")

    class Meta(LedgerRow.Meta):
        verbose_name_plural = "safety alert deliveries"
        ordering = ("-created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "round", "recipient"],
                condition=models.Q(recipient__isnull=False),
                name="safety_delivery_once_per_recipient_and_round",
            ),
            models.UniqueConstraint(
                fields=["alert", "round"],
                condition=models.Q(recipient__isnull=True),
                name="safety_delivery_one_escalation_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"Safety alert delivery, round {self.round} ({self.status})"


class SafeContact(UUIDModel):
    """How a therapist may reach a partner safely after an alert (SPEC section 2): read by its
    author and the couple's therapists, never by the other partner, never in a digest."""

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="safe_contacts")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safe_contacts"
    )
    phone = models.CharField(max_length=32, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    times = models.CharField(max_length=200, blank=True, default="")
    voicemail_ok = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "partner"], name="safe_contact_one_per_partner"
            ),
        ]

    def __str__(self) -> str:
        return "Safe contact"


class Consent(UUIDModel):
    """An acceptance of the data rules the apps show (SPEC section 2), kept as history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    document = models.SlugField(max_length=64)
    version = models.CharField(max_length=32)
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-accepted_at", "id")
        indexes = [models.Index(fields=["user", "accepted_at"])]

    def __str__(self) -> str:
        return f"Consent to {self.document} {self.version}"
