"""Commitments: homework or a promise one partner makes, kept, missed, released or renewed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from config.model_base import UUIDModel
from engagement.models.couples import Couple
from engagement.models.sharing import CoupleOrTherapist
from engagement.models.sharing import SharedByAuthor
from engagement.models.sharing import by_couple_and_author


class Commitment(UUIDModel, SharedByAuthor):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Kept"
        MISSED = "missed", "Missed"
        RELEASED = "released", "Released"

    Visibility = CoupleOrTherapist

    # What of a commitment anyone is shown, in the API and the admin alike.
    SHOWN_FIELDS = (
        "id",
        "couple",
        "owner",
        "created_by",
        "title",
        "details",
        "due_on",
        "status",
        "resolved_at",
        "renewed_from",
        "visibility",
        "created_at",
        "updated_at",
    )

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="commitments")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commitments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    details = models.TextField(max_length=2_000, blank=True, default="")
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    renewed_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="renewals"
    )
    visibility = models.CharField(max_length=9, choices=Visibility.choices)

    class Meta:
        ordering = ("due_on", "id")
        indexes = by_couple_and_author("owner", "due_on")

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_on}, {self.status})"
