"""Goals: what each partner wants from therapy, kept as a history (SPEC section 2).

Every `PUT /couples/{id}/goal/` appends a row; a partner's current goal is their latest row in
that couple. Therapists read the current goals and the whole history (a goal that moves is
itself a signal); the other partner never reads either.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.model_base import UUIDModel
from engagement.models.couples import Couple


class Goal(UUIDModel):
    class Choice(models.TextChoices):
        WORK_ON_IT = "work_on_it", "Work on it"
        DECIDE = "decide", "Decide"
        SEPARATE_WELL = "separate_well", "Separate well"
        UNSURE = "unsure", "Unsure"

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="goals")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="goals"
    )
    goal = models.CharField(max_length=13, choices=Choice.choices)
    note = models.TextField(max_length=1_000, blank=True, default="")
    set_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("couple", "partner", "set_at", "id")
        indexes = [models.Index(fields=["couple", "partner", "set_at"])]

    def __str__(self) -> str:
        return f"Goal {self.goal} ({self.set_at:%Y-%m-%d})"
