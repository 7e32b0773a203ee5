"""Domain exceptions of the engagement app: each a 409 or 422 with its SPEC error code.

The services raise them (engagement/services/) and the API's idempotency raises its own two
(engagement/api/idempotency.py); DRF's exception handler turns each into its JSON error
(config/api/exceptions.py). A new code also belongs in the schema's list of error codes
(config/api/schema.py).
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException


class DomainError(APIException):
    """A request the current state refuses: 409 unless the subclass says otherwise, with the
    subclass's code and message, given as class keywords."""

    status_code: int = status.HTTP_409_CONFLICT

    def __init_subclass__(
        cls,
        *,
        code: str | None = None,
        detail: str | None = None,
        http_status: int | None = None,
        **kwargs: Any,
    ) -> None:
        # Each keyword left out keeps what the class body or the parent says.
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.default_code = code
        if detail is not None:
            cls.default_detail = detail
        if http_status is not None:
            cls.status_code = http_status


# --- couples (SPEC section 1 and 3) ----------------------------------------------------------


class InvalidTransition(
    DomainError,
    code="invalid_transition",
    detail="This change is not allowed in the object's current state.",
):
    """A change the object's current state does not allow (SPEC section 3: 409)."""


class PartnerLimitReached(
    DomainError, code="partner_limit", detail="This couple already has two partners."
):
    """A couple has two partners at most (SPEC section 1)."""


class Conflict(
    DomainError,
    code="conflict",
    detail="The request conflicts with the current state of the couple.",
):
    """Already a member, or another state the request cannot apply to."""


class LastTherapistOnHold(
    DomainError,
    code="last_therapist_on_hold",
    detail=(
        "The couple is on safety hold: its last therapist cannot leave or be removed until "
        "another therapist joins or the hold is lifted."
    ),
):
    """A couple on safety hold keeps a therapist (SPEC section 1)."""


# --- invitations (SPEC section 1, "Invitations and membership ends") --------------------------


class PendingLimitReached(DomainError, code="pending_limit"):
    """The inviter already holds ``limit`` pending invitations for the couple (the limit is
    engagement/services/invitations.py's MAX_PENDING_PER_INVITER)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You hold {limit} pending invitations for this couple; "
            "revoke one before sending another."
        )


class ApprovalPending(
    DomainError,
    code="approval_pending",
    detail="Every partner of the couple must approve this invitation first.",
):
    """Nobody brings a therapist into the other partner's data alone (SPEC section 1)."""


class ApprovalNotNeeded(
    DomainError, code="approval_not_needed", detail="This invitation needs no approval."
):
    """Only a therapist invitation sent by a partner waits for approvals."""


class RoleConflict(
    DomainError,
    code="role_conflict",
    detail=(
        "You hold or held another role in this couple, and a user holds one role in a couple "
        "(a partner never becomes its therapist)."
    ),
):
    """One role per user and couple, over time (SPEC section 1)."""


# --- session feedback (SPEC section 2) --------------------------------------------------------


class NotAttended(
    DomainError,
    code="not_attended",
    detail="Feedback is given by a partner recorded as attending this session.",
):
    """Feedback comes only from a partner whose attendance entry is `attended` or `late`."""


class FeedbackWindowClosed(
    DomainError,
    code="feedback_window_closed",
    detail="The time to give feedback on this session has passed.",
):
    """Feedback comes within FEEDBACK_WINDOW_DAYS (SPEC section 2)."""


# --- Idempotency-Key (SPEC section 3) ---------------------------------------------------------


class IdempotencyKeyInFlight(
    DomainError,
    code="idempotency_in_flight",
    detail="A request with this Idempotency-Key is still being processed.",
):
    """A concurrent duplicate of a request still running."""


class IdempotencyKeyReused(
    DomainError,
    code="idempotency_key_reused",
    detail="This Idempotency-Key was already used with a different request body.",
    http_status=status.HTTP_422_UNPROCESSABLE_ENTITY,
):
    """The same key with another body."""
