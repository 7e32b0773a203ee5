"""Exactly-once ledgers (digests, reminders, safety alerts): a row is claimed before sending,
then sent, failed or skipped; never sent twice."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Claimed"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class LedgerRow(models.Model):
    """What every row of an exactly-once ledger holds: its state, the claim a worker takes
    before sending (compare-and-set: a worker owns the row while `claim_token` is its own), and
    when it went out or why not."""

    status = models.CharField(
        max_length=7, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        # Each ledger's sweep of claims whose worker died (status claimed, claimed_at older than
        # the claim timeout). A ledger whose Meta does not extend this one leaves it out.
        indexes = [models.Index(fields=["status", "claimed_at"])]
