"""The account export (`GET /me/export/`): everything stored about the caller, nothing of others.

It asks the same visibility selectors as the API and then keeps what is about the caller: their
profile and memberships, the sessions they were expected at (their own attendance only, never
therapist notes nor anyone else's rating), their own commitments and check-ins, and reports of
their couples in the partner view. Couples the caller serves as therapist contribute only the
membership: what is recorded there is about the clients (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from typing import TypeVar

from django.db.models import F
from django.db.models import Field
from django.db.models import Model
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from config.api.fields import ModelSerializer
from config.api.fields import utc_timestamp
from engagement.api.serializers.away import AwayPeriodSerializer
from engagement.api.serializers.checkins import CheckInSerializer
from engagement.api.serializers.commitments import CommitmentSerializer
from engagement.api.serializers.sessions import THERAPIST_ONLY_FIELDS
from engagement.api.serializers.sessions import SessionSerializer
from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import Consent
from engagement.models import Goal
from engagement.models import Membership
from engagement.models import SafeContact
from engagement.models import SessionFeedback
from engagement.models.feedback import FEEDBACK_ITEMS
from engagement.selectors.reports import report_for_viewer
from engagement.selectors.reports import reports_readable_by
from engagement.selectors.reports import sharing_of
from engagement.selectors.visibility import checkins_visible_to
from engagement.selectors.visibility import commitments_visible_to
from engagement.selectors.visibility import couples_with_role
from engagement.selectors.visibility import sessions_visible_to

_Row = TypeVar("_Row", bound=Model)

FORMAT = "duet-export"
VERSION = 1


def _fields_except(serializer: type[ModelSerializer], *left_out: str) -> tuple[str, ...]:
    """A resource's fields as the API shows it, but for those the export leaves out: a field
    added to the resource reaches the export without being declared again."""
    return tuple(name for name in serializer.Meta.fields if name not in left_out)


# The caller is the author of every check-in they export; their own safety answers are read
# here and nowhere else (SPEC section 1).
CHECKIN_FIELDS = (*_fields_except(CheckInSerializer, "author"), "afraid_or_hurt")
# The caller owns every commitment they export; who created it is not about them.
COMMITMENT_FIELDS = _fields_except(CommitmentSerializer, "owner", "created_by")
# Never what only therapists read, such as their notes (SPEC section 1); the caller's own
# attendance entry is added apart, and the per-reader timestamps of sessions stay out.
SESSION_FIELDS = _fields_except(
    SessionSerializer, *THERAPIST_ONLY_FIELDS, "attendance", "created_at", "updated_at"
)


def _utc(value: dt.datetime | None) -> str | None:
    return utc_timestamp(value)


def _plain(obj: Model, name: str) -> Any:
    """A model field as the export's JSON holds it: ids as strings, dates ISO, moments in UTC."""
    field = obj._meta.get_field(name)
    assert isinstance(field, Field)  # a concrete column, never a reverse relation
    value = getattr(obj, field.attname)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _row(obj: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(obj, name) for name in fields}


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
                **_row(session, SESSION_FIELDS),
                # Only the caller's own status: participation ratings are the therapist's
                # alone, not even one's own reaches the export (SPEC sections 1 and 4).
                "attendance": None if attendance is None else {"status": attendance.status},
            }
        )
    return result


def _former_couple_ids(user: User) -> Any:
    active = Membership.objects.filter(user=user, left_at__isnull=True).values("couple_id")
    return Membership.objects.filter(user=user).exclude(couple_id__in=active).values("couple_id")


def _own(user: User, visible: QuerySet[_Row], *, by: str) -> QuerySet[_Row]:
    """What the API shows the caller, narrowed to their own (`by` is them); plus their own in
    couples they have left, which the API no longer shows but which are still about them."""
    mine = Q(**{by: user})
    return visible.model._default_manager.filter(
        Q(id__in=visible.filter(mine).values("id"))
        | (mine & Q(couple_id__in=_former_couple_ids(user)))
    )


def _commitments(user: User) -> list[dict[str, Any]]:
    commitments = _own(user, commitments_visible_to(user), by="owner").order_by("due_on", "id")
    return [_row(c, COMMITMENT_FIELDS) for c in commitments]


def _checkins(user: User) -> list[dict[str, Any]]:
    # Own check-ins only: the other partner's, even those shared with the couple, are theirs.
    checkins = _own(user, checkins_visible_to(user), by="author").order_by("date", "id")
    return [_row(c, CHECKIN_FIELDS) for c in checkins]


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
    """The caller's own periods as the API shows them to their author, who has read each since
    recording it (SPEC section 1), less `partner`: the caller is the author of every one."""
    periods = (
        AwayPeriod.objects.filter(partner=user)
        .annotate(reader_created_at=F("created_at"), reader_updated_at=F("updated_at"))
        .order_by("starts_on", "id")
    )
    representation = AwayPeriodSerializer().to_representation
    return [_without(representation(a), "partner") for a in periods]


def _without(row: dict[str, Any], *left_out: str) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in left_out}


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


def _safe_contacts(user: User) -> list[dict[str, Any]]:
    """The caller's own safe contacts, one per couple; never a safety alert (SPEC section 4)."""
    return [
        {
            "couple": str(c.couple_id),
            "phone": c.phone or None,
            "email": c.email or None,
            "times": c.times or None,
            "voicemail_ok": c.voicemail_ok,
            "updated_at": _utc(c.updated_at),
        }
        for c in SafeContact.objects.filter(partner=user).order_by("couple_id")
    ]


def _consents(user: User) -> list[dict[str, Any]]:
    return [
        {"document": c.document, "version": c.version, "accepted_at": _utc(c.accepted_at)}
        for c in Consent.objects.filter(user=user).order_by("accepted_at", "id")
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
        "safe_contacts": _safe_contacts(user),
        "consents": _consents(user),
    }
