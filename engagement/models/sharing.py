"""Rows a partner writes and chooses who reads (check-ins, commitments, away periods): their
timestamps, their indexes, and the choice of readers that commitments and away periods offer."""

from __future__ import annotations

from django.db import models


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


def by_couple_and_author(author: str, day: str) -> list[models.Index]:
    """The indexes of such a row: a couple's rows and one author's rows, each by their day (the
    date field named `day`; `author` is the field of the partner who wrote it)."""
    return [models.Index(fields=["couple", day]), models.Index(fields=[author, day])]
