"""Daily check-ins: one per partner, couple and local date, with a visibility chosen each time."""

from __future__ import annotations

import operator
from functools import reduce

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from config.model_base import UUIDModel
from engagement.models.couples import Couple
from engagement.models.sharing import SharedByAuthor
from engagement.models.sharing import by_couple_and_author

# The self-report ratings, 1 to 5 or null, at least one given. Everything that handles a check-in's
# ratings (the API, the service, the export, the admin, the constraints below) takes them from here.
SCALES = ("mood", "effort", "connection", "resentment", "wellbeing")


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    THERAPIST = "therapist", "Therapist"
    COUPLE = "couple", "Couple"


def _scale() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )


class CheckIn(UUIDModel, SharedByAuthor):
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="checkins")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins"
    )
    date = models.DateField()
    mood = _scale()
    effort = _scale()
    connection = _scale()
    resentment = _scale()
    wellbeing = _scale()
    # "Today, did your partner hurt, threaten or force you, or were you afraid of what they
    # might do?" Write-only: no read returns it, not even to its author (only their export); it
    # reaches the couple's therapists as a safety alert and in reports (SPEC sections 1 and 2).
    afraid_or_hurt = models.BooleanField(null=True, blank=True)
    note = models.TextField(max_length=2_000, blank=True, default="")
    visibility = models.CharField(max_length=9, choices=Visibility.choices)

    class Meta:
        ordering = ("-date", "id")
        indexes = by_couple_and_author("author", "date")
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "author", "date"], name="checkin_one_per_partner_and_day"
            ),
            models.CheckConstraint(
                condition=reduce(operator.or_, (Q(**{f"{s}__isnull": False}) for s in SCALES)),
                name="checkin_at_least_one_rating",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{scale}__isnull": True})
                    | Q(**{f"{scale}__gte": 1, f"{scale}__lte": 5}),
                    name=f"checkin_{scale}_range",
                )
                for scale in SCALES
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.date} ({self.visibility})"
