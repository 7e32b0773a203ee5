"""Rows a partner writes and chooses who reads (check-ins, commitments, away periods): their
timestamps, their indexes, and the choice of readers that commitments and away periods offer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone


class CoupleOrTherapist(models.TextChoices):
    """Who reads a commitment or an away period: the couple, or its therapists only."""

    COUPLE = "couple", "Couple"
    THERAPIST = "therapist", "Therapist"


class SharedByAuthor(models.Model):
    """`shared_at` is when the row last became visible to the couple (null while it is not):
    the other partner reads it as the row's `created_at`, the moment they gained access (SPEC
    section 1)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    shared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def visibility_changed(self) -> None:
        """Its `visibility` was just set anew (unsaved): `shared_at` follows. Save both."""
        self.shared_at = shared_at(self.visibility)  # type: ignore[attr-defined]


def shared_at(visibility: str) -> datetime | None:
    """A row's `shared_at` when it is written with this visibility: now if the couple reads it
    (the other partner who gains access reads this moment as its `created_at`, SPEC section
    1), else null."""
    return timezone.now() if visibility == CoupleOrTherapist.COUPLE else None


def sharing(visibility: str) -> dict[str, Any]:
    """The fields of a new row written with this visibility: who reads it, and since when."""
    return {"visibility": visibility, "shared_at": shared_at(visibility)}


def by_couple_and_author(author: str, day: str) -> list[models.Index]:
    """The indexes of such a row: a couple's rows and one author's rows, each by their day (the
    date field named `day`; `author` is the field of the partner who wrote it)."""
    return [models.Index(fields=["couple", day]), models.Index(fields=[author, day])]
