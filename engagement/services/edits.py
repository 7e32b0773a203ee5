"""What the edit services of a couple's records share: the row, locked, the fields a request
changes, and their new values set."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import TypeVar

from django.db.models import Model

from engagement.models import Commitment
from engagement.models import TherapySession
from engagement.services.couples import ensure_not_ended

Record = TypeVar("Record", Commitment, TherapySession)


def lock_record(record: Record) -> Record:
    """The record's row, locked, with its couple; an ended couple is read-only (409)."""
    locked = type(record).objects.select_for_update().select_related("couple").get(pk=record.pk)
    ensure_not_ended(locked.couple)
    return locked


def changed_fields(row: Model, changes: Mapping[str, object]) -> list[str]:
    """The fields ``changes`` gives (None: unchanged) with a value other than the row's."""
    return [
        name for name, value in changes.items() if value is not None and getattr(row, name) != value
    ]


def assign(row: Model, values: Mapping[str, object], names: Iterable[str]) -> None:
    """Set the row's fields ``names`` to their ``values`` (unsaved)."""
    for name in names:
        setattr(row, name, values[name])
