"""Away periods: a partner travelling, ill or otherwise away, so fewer check-ins are expected.

The check-in target of the weeks they cover is pro-rated (SPEC sections 2 and 5.2); the shared
balance counts only periods with visibility `couple` (SPEC section 5.6).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models import Q

from config.model_base import UUIDModel
from engagement.models.couples import Couple
from engagement.models.sharing import CoupleOrTherapist
from engagement.models.sharing import SharedByAuthor
from engagement.models.sharing import by_couple_and_author

MAX_AWAY_DAYS = 28


class AwayPeriod(UUIDModel, SharedByAuthor):
    class Reason(models.TextChoices):
        TRAVEL = "travel", "Travel"
        ILLNESS = "illness", "Illness"
        OTHER = "other", "Other"

    Visibility = CoupleOrTherapist

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="away_periods")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="away_periods"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    # "" when not given; the API reads and writes it as null (SPEC section 2).
    reason = models.CharField(max_length=7, choices=Reason.choices, blank=True, default="")
    visibility = models.CharField(max_length=9, choices=Visibility.choices)

    class Meta:
        ordering = ("-starts_on", "id")
        indexes = by_couple_and_author("partner", "starts_on")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="away_ends_after_it_starts"
            ),
        ]

    def __str__(self) -> str:
        return f"Away {self.starts_on}..{self.ends_on} ({self.visibility})"
