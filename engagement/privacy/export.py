"""The account export (`GET /me/export/`): everything stored about the caller, nothing of others.

It asks the same visibility selectors as the API and then keeps what is about the caller: their
profile and memberships, the sessions they were expected at (their own attendance only, never
therapist notes nor anyone else's rating), their own commitments and check-ins, and reports of
their couples in the partner view. Couples the caller serves as therapist contribute only the
membership: what is recorded there is about the clients (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from config.api.fields import utc_timestamp
from engagement.models import (
    Attendance,
    AwayPeriod,
    CheckIn,
    Commitment,
    Goal,
    Membership,
    SessionFeedback,
)
from engagement.models.feedback import FEEDBACK_ITEMS
from engagement.selectors.reports import report_for_viewer, reports_readable_by, sharing_of
from engagement.selectors.visibility import (
    checkins_visible_to,
    commitments_visible_to,
    couples_with_role,
    sessions_visible_to,
)

FORMAT = "duet-export"
VERSION = 1

_SCALES = ("mood", "effort", "connection", "resentment", "wellbeing")


def _utc(value: dt.datetime | None) -> str | None:
    return utc_timestamp(value)


def _user(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "email": user.email,
        "display_name": user.display_name,
        "timezone": user.timezone,
        "is_therapist": user.is_therapist,
        "weekly_digest": user.weekly_digest,
        "digest_detail": user.digest_detail,
        "digest_weekday": user.digest_weekday,
        "digest_hour": user.digest_hour,
        "date_joined": _utc(user.date_joined),
        "email_verified_at": _utc(user.email_verified_at),
    }


def _couples(user: User) -> list[dict[str, Any]]:
    """Every membership, former ones included: the caller's own history."""
    memberships = Membership.objects.filter(user=user).select_related("couple")
    return [
        {
            "id": str(m.couple_id),
            "name": m.couple.name,
            "role": m.role,
            "joined_at": _utc(m.joined_at),
            "left_at": _utc(m.left_at),
            "shares_balance": m.shares_balance if m.role == Membership.Role.PARTNER else None,
        }
        for m in memberships.order_by("joined_at", "id")
    ]


def _sessions(user: User) -> list[dict[str, Any]]:
    partner_couples = couples_with_role(user, Membership.Role.PARTNER).values("id")
    sessions = (
        sessions_visible_to(user).filter(couple_id__in=partner_couples).order_by("starts_at", "id")
    )
    own_attendance = {
        a.session_id: a
        for a in Attendance.objects.filter(partner=user, session__in=sessions.values("id"))
    }
    result = []
    for session in sessions:
        attendance = own_attendance.get(session.id)
        result.append(
            {
                "id": str(session.id),
                "couple": str(session.couple_id),
                "kind": session.kind,
                "focus_partner": str(session.focus_partner_id)
                if session.focus_partner_id
                else None,
                "starts_at": _utc(session.starts_at),
                "duration_minutes": session.duration_minutes,
                "status": session.status,
                # Only the caller's own status: participation ratings are the therapist's
                # alone, not even one's own reaches the export (SPEC sections 1 and 4).
                "attendance": None if attendance is None else {"status": attendance.status},
            }
        )
    return result


def _former_couple_ids(user: User) -> Any:
    active = Membership.objects.filter(user=user, left_at__isnull=True).values("couple_id")
    return Membership.objects.filter(user=user).exclude(couple_id__in=active).values("couple_id")


def _commitments(user: User) -> list[dict[str, Any]]:
    # What the API shows the caller, narrowed to their own; plus their own in couples they have
    # left, which the API no longer shows but which are still about them.
    commitments = Commitment.objects.filter(
        Q(id__in=commitments_visible_to(user).filter(owner=user).values("id"))
        | Q(owner=user, couple_id__in=_former_couple_ids(user))
    ).order_by("due_on", "id")
    return [
        {
            "id": str(c.id),
            "couple": str(c.couple_id),
            "title": c.title,
            "details": c.details,
            "due_on": c.due_on.isoformat(),
            "status": c.status,
            "resolved_at": _utc(c.resolved_at),
            "renewed_from": str(c.renewed_from_id) if c.renewed_from_id else None,
            "visibility": c.visibility,
            "created_at": _utc(c.created_at),
            "updated_at": _utc(c.updated_at),
        }
        for c in commitments
    ]


def _checkins(user: User) -> list[dict[str, Any]]:
    # Own check-ins only: the other partner's, even those shared with the couple, are theirs.
    checkins = CheckIn.objects.filter(
        Q(id__in=checkins_visible_to(user).filter(author=user).values("id"))
        | Q(author=user, couple_id__in=_former_couple_ids(user))
    ).order_by("date", "id")
    return [
        {
            "id": str(c.id),
            "couple": str(c.couple_id),
            "date": c.date.isoformat(),
            **{scale: getattr(c, scale) for scale in _SCALES},
            "note": c.note,
            "visibility": c.visibility,
            "created_at": _utc(c.created_at),
            "updated_at": _utc(c.updated_at),
        }
        for c in checkins
    ]


def _session_feedback(user: User) -> list[dict[str, Any]]:
    """The caller's own feedback on sessions, in couples they left too: it is theirs."""
    return [
        {
            "session": str(f.session_id),
            **{item: getattr(f, item) for item in FEEDBACK_ITEMS},
            "comment": f.comment,
            "submitted_at": _utc(f.submitted_at),
            "updated_at": _utc(f.updated_at),
        }
        for f in SessionFeedback.objects.filter(partner=user).order_by("submitted_at", "id")
    ]


def _goals(user: User) -> list[dict[str, Any]]:
    """Every goal the caller set, oldest first (the history, not only the current ones)."""
    return [
        {"couple": str(g.couple_id), "goal": g.goal, "note": g.note, "set_at": _utc(g.set_at)}
        for g in Goal.objects.filter(partner=user).order_by("set_at", "id")
    ]


def _away_periods(user: User) -> list[dict[str, Any]]:
    return [
        {
            "id": str(a.id),
            "couple": str(a.couple_id),
            "starts_on": a.starts_on.isoformat(),
            "ends_on": a.ends_on.isoformat(),
            "reason": a.reason or None,
            "visibility": a.visibility,
            "created_at": _utc(a.created_at),
            "updated_at": _utc(a.updated_at),
        }
        for a in AwayPeriod.objects.filter(partner=user).order_by("starts_on", "id")
    ]


def _reports(user: User) -> list[dict[str, Any]]:
    """Reports exactly as the caller reads them in the app, in the partner view (SPEC 4): own
    figures without participation, the shared balance only when shared; never the full
    balance, flags, recommendations or anyone's participation."""
    sharing = {
        couple.id: sharing_of(couple) for couple in couples_with_role(user, Membership.Role.PARTNER)
    }
    reports = (
        reports_readable_by(user)
        .filter(couple_id__in=sharing.keys())
        .select_related("couple")
        .order_by("week_start", "id")
    )
    return [
        report_for_viewer(
            report, user, role=Membership.Role.PARTNER, sharing=sharing[report.couple_id]
        )
        for report in reports
    ]


def _devices(user: User) -> list[dict[str, Any]]:
    """The caller's push devices, never their tokens (SPEC section 4)."""
    return [
        {
            "id": str(d.id),
            "platform": d.platform,
            "name": d.name,
            "created_at": _utc(d.created_at),
            "last_seen_at": _utc(d.last_seen_at),
        }
        for d in user.devices.order_by("created_at", "id")
    ]


def export_for(user: User) -> dict[str, Any]:
    """The whole export document."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _utc(timezone.now()),
        "user": _user(user),
        "couples": _couples(user),
        "sessions": _sessions(user),
        "commitments": _commitments(user),
        "checkins": _checkins(user),
        "session_feedback": _session_feedback(user),
        "goals": _goals(user),
        "away_periods": _away_periods(user),
        "reports": _reports(user),
        "devices": _devices(user),
    }
