"""Session feedback API: `GET, PUT /sessions/{id}/feedback/` (SPEC section 2).

A partner reads and puts their own feedback on a session they can see; therapists read every
partner's. The other partner learns nothing of it, not even whether it exists: their GET
answers only their own (404 when they gave none), and nothing of the session they read moves.

Order of answers: 401 without a token; 404 for a session outside the caller's reach; 403 for a
therapist's PUT (feedback is a partner's own); 400 for a bad body, naming the field; 409
`not_attended` when the caller's attendance entry is missing, `absent` or `excused`, and 409
`feedback_window_closed` past FEEDBACK_WINDOW_DAYS.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiExample
from drf_spectacular.utils import PolymorphicProxySerializer
from drf_spectacular.utils import extend_schema
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
from engagement.api.permissions import role_of
from engagement.api.serializers.feedback import FeedbackPutSerializer
from engagement.api.serializers.feedback import FeedbackSerializer
from engagement.models import Membership
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.selectors.visibility import sessions_visible_to
from engagement.services.feedback import feedback_put

Role = Membership.Role

_FEEDBACK_EXAMPLE = {
    "partner": "93c2d1e0-6b5a-4f3e-8d2c-1b0a9f8e7d6c",
    "understood": 7,
    "helpful": 6,
    "spoke_freely": 4,
    "coming_back": 8,
    "comment": "Hard to say everything with them in the room.",
    "submitted_at": "2026-11-23T19:40:00.000Z",
    "updated_at": "2026-11-23T19:40:00.000Z",
}

_READ = PolymorphicProxySerializer(
    component_name="SessionFeedbackRead",
    serializers=[FeedbackSerializer, FeedbackSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class SessionFeedbackView(APIView):
    """Each attending partner's own view of a session (the split-alliance signal)."""

    def _session(self, user: User, session_id: UUID) -> TherapySession:
        return found(
            sessions_visible_to(user).select_related("couple").filter(pk=session_id).first()
        )

    @extend_schema(
        operation_id="sessions_feedback_retrieve",
        summary="Read session feedback",
        description=(
            "A partner: their own feedback on the session (an object; 404 when they gave none: "
            "the other partner's is never theirs to read, nor whether it exists). A therapist: "
            "every partner's feedback on it (an array, those who gave it, by partner)."
        ),
        responses={200: _READ},
        examples=[OpenApiExample("A partner's own", value=_FEEDBACK_EXAMPLE)],
    )
    def get(self, request: Request, id: UUID) -> Response:
        user = caller(request)
        session = self._session(user, id)
        feedback = SessionFeedback.objects.filter(session=session)
        if role_of(user, session.couple) == Role.THERAPIST:
            rows = list(feedback.order_by("partner_id"))
            record_therapist_reads(
                request, action="feedback.read", object_type="feedback", objects=[session]
            )
            data: Any = FeedbackSerializer(rows, many=True).data
        else:
            own = found(feedback.filter(partner=user).first())
            data = FeedbackSerializer(own).data
        # Either answer carries an ETag (SPEC section 3).
        return conditional(request, Response(data))

    @replaces(
        FeedbackPutSerializer,
        FeedbackSerializer,
        operation_id="sessions_feedback_update",
        summary="Give or replace the caller's feedback on a session",
        description=(
            "A partner whose attendance entry on the session is `attended` or `late`, within "
            "FEEDBACK_WINDOW_DAYS (default 7) of the later of the session's start and that "
            "entry being recorded. The four items are 0 to 10 and required; `comment` up to "
            "1 000 characters. 201 when created, 200 when replaced; the same body again "
            "changes nothing. Therapists: 403. Not attended: 409 `not_attended`; too late: "
            "409 `feedback_window_closed`."
        ),
        examples=[
            OpenApiExample(
                "After a session",
                request_only=True,
                value={
                    "understood": 7,
                    "helpful": 6,
                    "spoke_freely": 4,
                    "coming_back": 8,
                    "comment": "Hard to say everything with them in the room.",
                },
            ),
        ],
    )
    def put(self, request: Request, id: UUID) -> Response:
        user = caller(request)
        session = self._session(user, id)
        require_partner(user, session.couple, "Session feedback is given by the partners.")
        data = validated(FeedbackPutSerializer, request)
        feedback, created = feedback_put(session=session, partner=user, **data)
        return put_answer(FeedbackSerializer(feedback).data, created=created)
