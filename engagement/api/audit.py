"""The audit log of sensitive reads: a therapist reading check-ins or reports leaves a trace
(who, what, when), visible to staff in the admin."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from rest_framework.generics import GenericAPIView
from rest_framework.request import Request

from accounts.models import User
from engagement.models import AuditEvent
from engagement.models import Membership
from engagement.models.audit import audit_reads
from engagement.selectors.visibility import roles_by_couple


def record_therapist_reads(
    request: Request, *, action: str, object_type: str, objects: Iterable[Any]
) -> None:
    """One AuditEvent per couple whose objects a therapist of that couple just read.

    Two queries whatever the number of objects: the reader's roles and one bulk insert.
    A partner reading their own couple's data is not audited: it is theirs to read.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_therapist:
        return
    by_couple: dict[UUID, list[str]] = defaultdict(list)
    for obj in objects:
        by_couple[obj.couple_id].append(str(obj.id) if obj.id is not None else "current")
    if not by_couple:
        return
    roles = roles_by_couple(user)
    audit_reads(
        actor=user,
        channel=AuditEvent.Channel.API,
        action=action,
        object_type=object_type,
        ids_by_couple={
            couple_id: ids
            for couple_id, ids in by_couple.items()
            if roles.get(couple_id) == Membership.Role.THERAPIST
        },
    )


class AuditedListMixin(GenericAPIView[Any]):
    """A therapist reading a page of the list leaves a trace (docs/security.md). Put it before
    the list mixins among the bases."""

    # The AuditEvent's (action, object_type).
    list_audit: tuple[str, str]

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        action, object_type = self.list_audit
        record_therapist_reads(
            self.request, action=action, object_type=object_type, objects=page or []
        )
        return page
