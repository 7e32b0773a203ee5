"""Records that serve mobile clients: removals for sync, and idempotency keys for retries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Removal(models.Model):
    """Something a user could see and no longer can (deleted, erased, left, narrowed)."""

    class Type(models.TextChoices):
        COUPLE = "couple", "Couple"
        INVITATION = "invitation", "Invitation"
        SESSION = "session", "Session"
        COMMITMENT = "commitment", "Commitment"
        CHECKIN = "checkin", "Check-in"
        REPORT = "report", "Report"
        AWAY = "away", "Away period"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="removals"
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    object_id = models.UUIDField()
    removed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("removed_at", "id")
        indexes = [models.Index(fields=["user", "removed_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.object_id} removed {self.removed_at:%Y-%m-%d %H:%M}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an Idempotency-Key, replayed for 24 h (SPEC section 3)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    # Null while the first request is still in flight.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "method", "path", "key"], name="idempotency_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
