"""Therapy sessions (joint or individual) and each expected partner's attendance."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.model_base import UUIDModel
from engagement.models.couples import Couple
from engagement.models.timestamps import PerReaderTimestamps


class TherapySession(UUIDModel, PerReaderTimestamps):
    """A therapy session; named so to keep clear of Django's own sessions.

    Partners read `partner_updated_at` as its `updated_at`: notes and participation ratings are
    the therapist's, and changing them moves nothing a partner can observe (SPEC section 1).
    """

    PARTNER_HIDDEN_FIELDS = frozenset({"therapist_notes"})

    class Kind(models.TextChoices):
        JOINT = "joint", "Joint"
        INDIVIDUAL = "individual", "Individual"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    # What a session shows, in the API (which adds its attendance) and the admin (which adds who
    # created it), before its timestamps.
    SHOWN_FIELDS = (
        "id",
        "couple",
        "kind",
        "focus_partner",
        "starts_at",
        "duration_minutes",
        "status",
        "therapist_notes",
    )

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    focus_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="individual_sessions",
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.SCHEDULED)
    therapist_notes = models.TextField(max_length=10_000, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("starts_at", "id")
        indexes = [models.Index(fields=["couple", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="joint") & Q(focus_partner__isnull=True))
                | (Q(kind="individual") & Q(focus_partner__isnull=False)),
                name="session_focus_partner_iff_individual",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15, duration_minutes__lte=240),
                name="session_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} session {self.starts_at:%Y-%m-%d %H:%M} ({self.status})"


class Attendance(UUIDModel):
    """One expected partner at one session, with the therapist's participation rating."""

    class Status(models.TextChoices):
        ATTENDED = "attended", "Attended"
        LATE = "late", "Late"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused"

    session = models.ForeignKey(TherapySession, on_delete=models.CASCADE, related_name="attendance")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(max_length=8, choices=Status.choices)
    # 0 disengaged, 1 guarded, 2 engaged, 3 fully engaged; therapists only.
    participation = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(3)]
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("session", "partner")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "partner"], name="attendance_once_per_partner"
            ),
            models.CheckConstraint(
                condition=Q(participation__isnull=True) | Q(participation__lte=3),
                name="attendance_participation_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.status}"
