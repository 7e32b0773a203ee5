"""OpenAPI examples and shared parameters of the engagement API, so a view file shows the view.

Examples use the same few ids throughout: one couple, its two partners, its therapist.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample
from drf_spectacular.utils import OpenApiParameter

COUPLE = "0b9e6a52-3f1d-4e8a-9c7b-2d1e0f9a8b7c"
PARTNER_A = "93c2d1e0-6b5a-4f3e-8d2c-1b0a9f8e7d6c"
PARTNER_B = "a41d7c6b-5e4f-4a3b-9c2d-8e7f6a5b4c3d"
THERAPIST = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"


def _only(example: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A request's example: these keys of a read example, with its values, in this order."""
    return {key: example[key] for key in keys}


def _written(
    name: str, body: dict[str, Any], answer: dict[str, Any], status_codes: list[str] | None = None
) -> list[OpenApiExample]:
    """A write's examples: the request, `name`d, and the object it created."""
    return [
        OpenApiExample(name, request_only=True, value=body),
        OpenApiExample("Created", response_only=True, status_codes=status_codes, value=answer),
    ]


def _new(at: str) -> dict[str, str]:
    """The timestamps of an object as written: created and last updated at one moment."""
    return {"created_at": at, "updated_at": at}


# --- Parameters ---

CHECKIN_DATE_PARAMETER = OpenApiParameter(
    "date",
    OpenApiTypes.DATE,
    OpenApiParameter.PATH,
    description="The check-in's local date in the couple's timezone (YYYY-MM-DD).",
)
CHECKIN_COUPLE_PARAMETER = OpenApiParameter(
    "couple",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=True,
    description="The couple the caller's check-in belongs to.",
)
CURRENT_REPORT_COUPLE_PARAMETER = OpenApiParameter(
    "couple",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=True,
    description="The couple whose week so far to compute.",
)

# --- Check-ins ---

_CHECKIN = {
    "id": "f0e1d2c3-b4a5-4968-8776-655443322110",
    "couple": COUPLE,
    "author": PARTNER_A,
    "date": "2026-11-23",
    "mood": 3,
    "effort": 4,
    "connection": None,
    "resentment": 2,
    "wellbeing": 3,
    "note": "Talked about the holidays without a fight.",
    "visibility": "therapist",
    **_new("2026-11-23T21:40:00Z"),
}
CHECKIN_READ = [OpenApiExample("A check-in for the therapist", value=_CHECKIN)]
CHECKIN_PUT = _written(
    "Tonight's check-in, for the therapist's eyes",
    _only(_CHECKIN, "couple", "visibility", "mood", "effort", "resentment", "wellbeing", "note"),
    {**_CHECKIN, "safety_resources": []},
    status_codes=["201"],
)

# --- Commitments ---

_COMMITMENT = {
    "id": "c7d6e5f4-a3b2-4c1d-8e9f-0a1b2c3d4e5f",
    "couple": COUPLE,
    "owner": PARTNER_B,
    "created_by": THERAPIST,
    "title": "Ten minutes of undistracted talk after dinner",
    "details": "Phones in another room.",
    "due_on": "2026-11-29",
    "status": "open",
    "resolved_at": None,
    "renewed_from": None,
    "visibility": "couple",
    **_new("2026-11-23T19:05:00Z"),
}
COMMITMENT_READ = [OpenApiExample("An open commitment", value=_COMMITMENT)]
COMMITMENT_CREATE = _written(
    "A therapist sets homework",
    _only(_COMMITMENT, "couple", "owner", "title", "details", "due_on", "visibility"),
    _COMMITMENT,
)
COMMITMENT_RENEW = [
    OpenApiExample("Again next week", request_only=True, value={"due_on": "2026-12-06"}),
]

# --- Sessions ---

_SESSION = {
    "id": "5d0c2f9e-8a1b-4c3d-9e2f-1a2b3c4d5e6f",
    "couple": COUPLE,
    "kind": "joint",
    "focus_partner": None,
    "starts_at": "2026-11-23T18:00:00Z",
    "duration_minutes": 50,
    "status": "completed",
    "therapist_notes": "Both arrived on time; B spoke first for once.",
    "attendance": [
        {"partner": PARTNER_A, "status": "attended", "participation": 2},
        {"partner": PARTNER_B, "status": "late", "participation": 1},
    ],
    "created_at": "2026-11-20T09:12:00Z",
    "updated_at": "2026-11-23T19:02:41Z",
}
SESSION_READ = [OpenApiExample("As the therapist reads it", value=_SESSION)]
SESSION_CREATE = [
    OpenApiExample(
        "An individual session",
        request_only=True,
        value={
            "couple": COUPLE,
            "kind": "individual",
            "focus_partner": PARTNER_B,
            "starts_at": "2026-11-30T17:00:00Z",
            "duration_minutes": 50,
        },
    ),
]
SESSION_UPDATE = [
    OpenApiExample(
        "Move a session", request_only=True, value={"starts_at": "2026-12-01T17:30:00Z"}
    ),
]
SESSION_ATTENDANCE = [
    OpenApiExample(
        "A therapist records a joint session",
        request_only=True,
        value={
            "attendance": [
                {"partner": PARTNER_A, "status": "attended", "participation": 2},
                {"partner": PARTNER_B, "status": "absent", "participation": None},
            ]
        },
    ),
]

# --- Reports ---

_FIGURES = {
    "engagement_score": 100.0,
    "attendance_rate": 1.0,
    "participation": 1.0,
    "checkin_rate": 1.0,
    "follow_through": 1.0,
    "sessions_expected": 1,
    "sessions_attended": 1,
    "checkin_days": 5,
    "away_days": 0,
    "commitments_due": 1,
    "commitments_kept": 1,
    "commitments_missed": 0,
    "commitments_unreported": 0,
    "unsafe_days": 0,
    "alliance": 0.85,
    "mood_avg": None,
    "effort_avg": 5.0,
    "connection_avg": None,
    "resentment_avg": 4.0,
    "wellbeing_avg": 2.0,
}
_REPORT = {
    "id": "6f1c0d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f",
    "couple": COUPLE,
    "week_start": "2026-11-16",
    "methodology": "v1.1",
    "view": "partner",
    "revision": 1,
    "computed_at": "2026-11-23T00:05:03.000Z",
    "updated_at": "2026-11-23T00:05:03.000Z",
    "balance": "balanced",
    "gap": 10.0,
    "gap_trend": None,
    "less_engaged_partner": None,
    "partners": [
        {"partner": PARTNER_A, **_FIGURES, "participation": None, "unsafe_days": None},
        {"partner": PARTNER_B, **dict.fromkeys(_FIGURES)},
    ],
    "flags": [],
    "recommendations": [],
    "shared_balance": None,
    "shared_gap": None,
    "shared_gap_trend": None,
}
REPORT_READ = [OpenApiExample("As a partner reads it", value=_REPORT)]
REPORT_RECOMPUTE = [
    OpenApiExample(
        "Recompute a week",
        request_only=True,
        value={"couple": COUPLE, "week_start": "2026-11-16"},
    )
]

# --- Removals ---

REMOVAL_LIST = [
    OpenApiExample(
        "A deleted session",
        value={
            "type": "session",
            "id": "5d0c2f9e-8a1b-4c3d-9e2f-1a2b3c4d5e6f",
            "removed_at": "2026-11-23T19:10:00Z",
        },
    ),
]
