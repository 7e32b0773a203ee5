"""Domain exceptions of the engagement app: each a 409 or 422 with its SPEC error code.

The services raise them (engagement/services/) and the API's idempotency raises its own two
(engagement/api/idempotency.py); DRF's exception handler turns each into its JSON error
(config/api/exceptions.py). A new code also belongs in the schema's list of error codes
(config/api/schema.py).
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException

# --- couples (SPEC section 1 and 3) ----------------------------------------------------------


class InvalidTransition(APIException):
    """A change the object's current state does not allow (SPEC section 3: 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change is not allowed in the object's current state."
    default_code = "invalid_transition"


class PartnerLimitReached(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This couple already has two partners."
    default_code = "partner_limit"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the couple."
    default_code = "conflict"


class LastTherapistOnHold(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "The couple is on safety hold: its last therapist cannot leave or be removed until "
        "another therapist joins or the hold is lifted."
    )
    default_code = "last_therapist_on_hold"


# --- invitations (SPEC section 1, "Invitations and membership ends") --------------------------


class PendingLimitReached(APIException):
    """The inviter already holds ``limit`` pending invitations for the couple (the limit is
    engagement/services/invitations.py's MAX_PENDING_PER_INVITER)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "pending_limit"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You hold {limit} pending invitations for this couple; "
            "revoke one before sending another."
        )


class ApprovalPending(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Every partner of the couple must approve this invitation first."
    default_code = "approval_pending"


class ApprovalNotNeeded(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This invitation needs no approval."
    default_code = "approval_not_needed"


class RoleConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "You hold or held another role in this couple, and a user holds one role in a couple "
        "(a partner never becomes its therapist)."
    )
    default_code = "role_conflict"


# --- session feedback (SPEC section 2) --------------------------------------------------------


class NotAttended(APIException):
    """Feedback comes only from a partner whose attendance entry is `attended` or `late`."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Feedback is given by a partner recorded as attending this session."
    default_code = "not_attended"


class FeedbackWindowClosed(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The time to give feedback on this session has passed."
    default_code = "feedback_window_closed"


# --- Idempotency-Key (SPEC section 3) ---------------------------------------------------------


class IdempotencyKeyInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_in_flight"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"
