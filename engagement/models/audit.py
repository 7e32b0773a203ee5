"""Audit log of therapist and admin reads of check-ins and reports (who, what, when)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.logging import request_id_var
from config.model_base import UUIDModel


class AuditEvent(UUIDModel):
    class Channel(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"

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


def audit_reads(
    *,
    actor: Any,
    channel: str,
    action: str,
    object_type: str,
    ids_by_couple: Mapping[uuid.UUID | None, list[str]],
) -> None:
    """One AuditEvent per couple whose objects were read, in one INSERT, with the request's id
    (the API's therapist reads and the admin's staff reads alike)."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            channel=channel,
            action=action,
            object_type=object_type,
            object_ids=ids,
            couple_id=couple_id,
            request_id=request_id_var.get(),
        )
        for couple_id, ids in ids_by_couple.items()
    )
