"""The removals feed (`GET /removals/`): one row for each user who lost sight of an object, so
their sync drops it. Who lost sight is always an audience before minus the audience after
(engagement/selectors/visibility.py), never a second definition of readers."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.utils import timezone

from engagement.models import Removal


def removals_record(*, type: str, object_id: UUID, lost: Iterable[UUID]) -> None:
    """One removal, stamped now, per user in `lost`."""
    now = timezone.now()
    Removal.objects.bulk_create(
        Removal(user_id=user_id, type=type, object_id=object_id, removed_at=now) for user_id in lost
    )
