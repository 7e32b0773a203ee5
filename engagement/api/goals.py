"""Goals API: a partner's own goal (`GET, PUT /couples/{id}/goal/`) and the therapists' view of
every partner's current goal and its history (`GET /couples/{id}/goals/`), SPEC section 2.

Goals live in their own table: nothing of the couple the other partner reads (its ETag, its
`updated_at`) moves when a partner sets one, and no partner ever reads another's.

Order of answers: 401; 404 for a couple outside the caller's reach (and for a partner's own goal
before they set one); 403 for a therapist's PUT or a partner's read of `/goals/`; 400 naming the
field.
"""

from __future__ import annotations

from types import SimpleNamespace
from uuid import UUID

from drf_spectacular.utils import OpenApiExample
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from engagement.api.audit import record_therapist_reads
from engagement.api.base import caller
from engagement.api.base import found
from engagement.api.base import put_answer
from engagement.api.base import replaces
from engagement.api.base import validated
from engagement.api.conditional import conditional
from engagement.api.permissions import require_partner
from engagement.api.permissions import require_therapist
from engagement.api.serializers.goals import CoupleGoalsSerializer
from engagement.api.serializers.goals import GoalPutSerializer
from engagement.api.serializers.goals import OwnGoalSerializer
from engagement.api.serializers.goals import PartnerGoalSerializer
from engagement.models import Couple
from engagement.models import Goal
from engagement.selectors.visibility import active_partner_ids
from engagement.selectors.visibility import couples_visible_to
from engagement.services.goals import current_goal
from engagement.services.goals import goal_set


def _couple(user: User, couple_id: UUID) -> Couple:
    return found(couples_visible_to(user).filter(pk=couple_id).first())


class OwnGoalView(APIView):
    """What the caller wants from therapy, in one couple."""

    @extend_schema(
        operation_id="couples_goal_retrieve",
        summary="Read the caller's own goal",
        description=(
            "A partner's current goal in the couple (404 before they set one). Therapists "
            "read every partner's at `/couples/{id}/goals/`."
        ),
        responses={200: OwnGoalSerializer},
    )
    def get(self, request: Request, id: UUID) -> Response:
        user = caller(request)
        couple = _couple(user, id)
        goal = found(current_goal(couple=couple, partner=user))
        return conditional(request, Response(OwnGoalSerializer(goal).data))

    @replaces(
        GoalPutSerializer,
        OwnGoalSerializer,
        operation_id="couples_goal_update",
        summary="Set the caller's goal",
        description=(
            "Partners only: `goal` (`work_on_it`, `decide`, `separate_well`, `unsure`) and "
            "`note` (up to 1 000 characters). Each change is kept in the couple's history for "
            "its therapists; the other partner never reads it. 201 for a partner's first goal "
            "in the couple, 200 after; the same body again changes nothing."
        ),
        examples=[
            OpenApiExample(
                "Unsure for now",
                request_only=True,
                value={"goal": "unsure", "note": "I came because I was asked to."},
            ),
        ],
    )
    def put(self, request: Request, id: UUID) -> Response:
        user = caller(request)
        couple = _couple(user, id)
        require_partner(user, couple, "Goals are set by the partners.")
        data = validated(GoalPutSerializer, request)
        goal, first = goal_set(couple=couple, partner=user, **data)
        return put_answer(OwnGoalSerializer(goal).data, created=first)


class CoupleGoalsView(APIView):
    """Therapists: every partner's current goal, and every goal set in the couple."""

    @extend_schema(
        operation_id="couples_goals_retrieve",
        summary="Read the partners' goals and their history",
        description=(
            "Therapists only (partners: 403). `current`: each active partner's latest goal (a "
            "partner who set none is absent); `history`: every goal set in the couple, oldest "
            "first, former partners' included."
        ),
        responses={200: CoupleGoalsSerializer, 403: ErrorResponse403Serializer},
    )
    def get(self, request: Request, id: UUID) -> Response:
        user = caller(request)
        couple = _couple(user, id)
        require_therapist(user, couple, "The partners' goals are read by the couple's therapists.")
        history = list(Goal.objects.filter(couple=couple).order_by("set_at", "id"))
        latest: dict[UUID, Goal] = {}
        for goal in history:
            latest[goal.partner_id] = goal
        partners = active_partner_ids(couple.pk)
        current = sorted(
            (goal for partner, goal in latest.items() if partner in partners),
            key=lambda goal: (goal.set_at, goal.id),
        )
        record_therapist_reads(
            request,
            action="goals.read",
            object_type="goal",
            objects=[SimpleNamespace(id=couple.pk, couple_id=couple.pk)],
        )
        data = {
            "current": PartnerGoalSerializer(current, many=True).data,
            "history": PartnerGoalSerializer(history, many=True).data,
        }
        return conditional(request, Response(data))
