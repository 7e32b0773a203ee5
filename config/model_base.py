"""What models of both apps are built on: a random UUID primary key.

Shared by the models of accounts and of engagement, so neither app imports the other for it."""

from __future__ import annotations

import uuid

from django.db import models


class UUIDModel(models.Model):
    """A row known by a random UUID: ids a client sees tell nothing of how many rows there are
    or in which order they came."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True
