"""Audit log of therapist and admin reads of check-ins and reports (who, what, when)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    class Channel(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    channel = models.CharField(max_length=5, choices=Channel.choices)
    action = models.CharField(max_length=32)  # e.g. "checkin.list", "report.retrieve"
    object_type = models.CharField(max_length=16)
    object_ids = models.JSONField(default=list)
    couple_id = models.UUIDField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-at", "id")
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["couple_id", "at"])]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"
