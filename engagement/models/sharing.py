"""Rows a partner writes and chooses who reads (check-ins, commitments, away periods): their
timestamps, and the choice of readers that commitments and away periods offer."""

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
