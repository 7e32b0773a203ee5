"""Commitments API: list, create, read, edit, keep, miss, release and renew.

Order of answers: 401 without a token; 404 for a commitment outside the caller's reach; 403
for one they see but may not change (only its owner and the couple's therapists change it);
400 for a bad body; 409 for a transition its state refuses (`invalid_transition`) or an
ended couple.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from engagement.api import openapi
from engagement.api.base import ReaderViewSet
from engagement.api.base import command
from engagement.api.base import validated
from engagement.api.filters import CommitmentFilter
from engagement.api.idempotency import idempotent
from engagement.api.permissions import may_change_commitment
from engagement.api.permissions import may_commit_for
from engagement.api.permissions import may_widen_commitment
from engagement.api.permissions import require
from engagement.api.serializers.commitments import CommitmentCreateSerializer
from engagement.api.serializers.commitments import CommitmentRenewSerializer
from engagement.api.serializers.commitments import CommitmentSerializer
from engagement.api.serializers.commitments import CommitmentUpdateSerializer
from engagement.models import Commitment
from engagement.selectors.visibility import commitments_visible_to
from engagement.services.commitments import commitment_create
from engagement.services.commitments import commitment_renew
from engagement.services.commitments import commitment_resolve
from engagement.services.commitments import commitment_update

Status = Commitment.Status


def _resolution(target: str, summary: str) -> Any:
    return command(
        CommitmentSerializer,
        summary=summary,
        description=(
            f"The owner or a therapist: an open commitment becomes `{target}` (200). The same "
            "action again changes nothing (200); any other transition of a resolved "
            "commitment answers 409 `invalid_transition`."
        ),
    )


@extend_schema_view(
    list=extend_schema(
        summary="List the commitments the caller may see",
        description=(
            "Partners: the couple-visible commitments of their couples and their own of any "
            "visibility; therapists: every commitment of their couples. Earliest `due_on` "
            "first; with `updated_since`, by (`updated_at`, `id`) ascending."
        ),
    ),
    retrieve=extend_schema(summary="Read a commitment", examples=openapi.COMMITMENT_READ),
)
class CommitmentViewSet(ReaderViewSet[Commitment]):
    """Homework, or promises partners make; earliest due first."""

    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter
    # Earliest due first; with `updated_since`, (updated_at, id) ascending for sync.
    list_ordering = ("due_on", "id")

    visible_to = staticmethod(commitments_visible_to)

    def _changeable(self, user: User) -> Commitment:
        """The commitment in the path, if the caller may change it (else 403)."""
        commitment = self.get_object()
        require(
            may_change_commitment(user, commitment),
            "Only its owner and the couple's therapist change it.",
        )
        return commitment

    @extend_schema(
        summary="Create a commitment",
        description=(
            "A therapist, for either partner; a partner, for themselves only (`owner` may be "
            "left out). `visibility` is required. Past due dates are allowed."
        ),
        request=CommitmentCreateSerializer,
        examples=openapi.COMMITMENT_CREATE,
    )
    @idempotent()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.caller
        data = validated(CommitmentCreateSerializer, request)
        couple = data["couple"]
        require(
            may_commit_for(user, couple, data["owner"]),
            "A partner makes commitments for themselves only.",
        )
        commitment = commitment_create(
            couple=couple,
            owner_id=data["owner"],
            created_by=user,
            title=data["title"],
            details=data["details"],
            due_on=data["due_on"],
            visibility=data["visibility"],
        )
        return self.answer(commitment.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a commitment",
        description=(
            "The owner or a therapist: `title`, `details`, `due_on`, `visibility`. `status`, "
            "`resolved_at`, `owner`, `couple` and `renewed_from` are read-only and ignored. "
            "Only the owner may widen `visibility` from `therapist` to `couple`."
        ),
        request=CommitmentUpdateSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.caller
        commitment = self._changeable(user)
        data = validated(CommitmentUpdateSerializer, request)
        widening = (
            data.get("visibility") == Commitment.Visibility.COUPLE
            and commitment.visibility == Commitment.Visibility.THERAPIST
        )
        if widening:
            require(
                may_widen_commitment(user, commitment),
                "Only its owner can show a commitment to the couple.",
            )
        commitment = commitment_update(
            commitment=commitment,
            title=data.get("title"),
            details=data.get("details"),
            due_on=data.get("due_on"),
            visibility=data.get("visibility"),
        )
        return self.answer(commitment.pk)

    def _resolve(self, request: Request, target: str) -> Response:
        commitment = self._changeable(self.caller)
        return self.answer(commitment_resolve(commitment=commitment, status=target).pk)

    @_resolution(Status.KEPT, "Keep a commitment")
    def keep(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._resolve(request, Status.KEPT)

    @_resolution(Status.MISSED, "Miss a commitment")
    def miss(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._resolve(request, Status.MISSED)

    @_resolution(Status.RELEASED, "Release a commitment (no longer expected of its owner)")
    def release(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._resolve(request, Status.RELEASED)

    @extend_schema(
        summary="Renew a commitment: make the promise again",
        description=(
            "The owner or a therapist; any commitment, open or resolved. Creates a new open "
            "commitment with `renewed_from` set, the same owner, couple, details and "
            "visibility, and the given `due_on` (and `title`, by default the same)."
        ),
        request=CommitmentRenewSerializer,
        responses={201: CommitmentSerializer},
        examples=openapi.COMMITMENT_RENEW,
    )
    @idempotent()
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.caller
        commitment = self._changeable(user)
        data = validated(CommitmentRenewSerializer, request)
        renewal = commitment_renew(
            commitment=commitment, created_by=user, due_on=data["due_on"], title=data.get("title")
        )
        return self.answer(renewal.pk, status.HTTP_201_CREATED)
