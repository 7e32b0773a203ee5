"""Erasing an account (`DELETE /me/`): docs/privacy.md says what goes and what stays, and why.

Engagement's rows are handled here; the account's own part is accounts.services.account_anonymise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.services import account_anonymise
from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Goal
from engagement.models import IdempotencyRecord
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import Removal
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.models import Visibility
from engagement.selectors.visibility import away_audience
from engagement.selectors.visibility import session_audience


def _removals_for_deleted(
    user: User, checkins: list[CheckIn], commitments: list[Commitment]
) -> list[Removal]:
    """Tell the remaining members' apps to drop what they could see of the erased user."""
    couple_ids = {c.couple_id for c in checkins} | {c.couple_id for c in commitments}
    members: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for couple_id, member_id, role in (
        Membership.objects.filter(couple_id__in=couple_ids, left_at__isnull=True)
        .exclude(user=user)
        .values_list("couple_id", "user_id", "role")
    ):
        members[couple_id].append((member_id, role))
    lost: list[tuple[uuid.UUID, str, uuid.UUID]] = []
    for checkin in checkins:
        for member_id, role in members[checkin.couple_id]:
            sees = (
                checkin.visibility == Visibility.COUPLE
                if role == Membership.Role.PARTNER
                else checkin.visibility in (Visibility.COUPLE, Visibility.THERAPIST)
            )
            if sees:
                lost.append((member_id, Removal.Type.CHECKIN, checkin.id))
    for commitment in commitments:
        for member_id, role in members[commitment.couple_id]:
            if (
                role == Membership.Role.THERAPIST
                or commitment.visibility == Commitment.Visibility.COUPLE
            ):
                lost.append((member_id, Removal.Type.COMMITMENT, commitment.id))
    now = timezone.now()
    return [
        Removal(user_id=member_id, type=kind, object_id=object_id, removed_at=now)
        for member_id, kind, object_id in lost
    ]


@transaction.atomic
def user_erase(*, user: User) -> None:
    """Erase the account and its personal data; keep, anonymised, what belongs to others.

    Goes: check-ins, the commitments the user set themselves, their session feedback, goals
    and away periods, profile and preferences, pending
    email changes, tokens, idempotency records, sync removals, couples nobody else ever joined.
    Stays: joint sessions, commitments set by a therapist, stored reports, invitations
    (pending ones sent by the user are revoked), attached to a row shown as "Former partner".
    Their clinical record (safety alerts raised by their answers, their attendance and
    individual sessions with their notes) goes too with CLINICAL_RETENTION_YEARS 0, the
    default; otherwise it stays for the couple's therapists that many years
    (`clinical_records_purge`).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()

    # Couples nobody else ever joined hold nothing but the user's own data.
    couple_ids = set(Membership.objects.filter(user=user).values_list("couple_id", flat=True))
    shared_couples = set(
        Membership.objects.filter(couple_id__in=couple_ids)
        .exclude(user=user)
        .values_list("couple_id", flat=True)
    )
    Couple.objects.filter(id__in=couple_ids - shared_couples).delete()

    checkins = list(CheckIn.objects.filter(author=user))
    own_commitments = list(Commitment.objects.filter(owner=user, created_by=user))
    Removal.objects.bulk_create(_removals_for_deleted(user, checkins, own_commitments))
    CheckIn.objects.filter(id__in=[c.id for c in checkins]).delete()
    Commitment.objects.filter(id__in=[c.id for c in own_commitments]).delete()
    # Issue #17: what the user said of sessions, wanted from therapy, and when they were away.
    away = list(AwayPeriod.objects.filter(partner=user))
    Removal.objects.bulk_create(
        Removal(user_id=reader, type=Removal.Type.AWAY, object_id=period.pk, removed_at=now)
        for period in away
        for reader in away_audience(period) - {user.pk}
    )
    AwayPeriod.objects.filter(partner=user).delete()
    SessionFeedback.objects.filter(partner=user).delete()
    Goal.objects.filter(partner=user).delete()

    SafeContact.objects.filter(partner=user).delete()
    if settings.CLINICAL_RETENTION_YEARS == 0:
        clinical_records_erase(user_ids=[user.pk], now=now)

    Membership.objects.filter(user=user, left_at__isnull=True).update(
        left_at=now, partner_slot=None, shares_balance=False
    )
    Invitation.objects.filter(invited_by=user, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED, updated_at=now
    )

    placeholder = f"erased-{uuid.uuid4().hex}@invalid"
    # The address the user was invited at would tie the anonymised row back to them.
    Invitation.objects.filter(accepted_by=user).update(email=placeholder, updated_at=now)
    IdempotencyRecord.objects.filter(user=user).delete()
    Removal.objects.filter(user=user).delete()
    account_anonymise(user=user, email=placeholder, now=now)
    # The admin's history keeps the address of the invitations the user accepted as it was
    # (`object_repr`): rename those entries as the rows read now; what was done and when stays.
    for invitation in Invitation.objects.filter(accepted_by=user):
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Invitation),
            object_id=str(invitation.pk),
        ).update(object_repr=str(invitation)[:200])


def clinical_records_erase(*, user_ids: list[uuid.UUID], now: dt.datetime) -> None:
    """Erase the clinical record kept about these (erased) partners: the safety alerts their
    answers raised, their attendance entries, and their individual sessions with their notes.
    Joint sessions stay: they are the remaining partner's record too. Readers who lose a
    session are told (`/removals/`); a joint session that lost an attendance entry reads as
    changed to everyone (its clocks move)."""
    SafetyAlert.objects.filter(partner_id__in=user_ids).delete()
    individual = list(
        TherapySession.objects.filter(
            kind=TherapySession.Kind.INDIVIDUAL, focus_partner_id__in=user_ids
        )
    )
    Removal.objects.bulk_create(
        Removal(user_id=reader, type=Removal.Type.SESSION, object_id=session.pk, removed_at=now)
        for session in individual
        for reader in session_audience(session) - set(user_ids)
    )
    TherapySession.objects.filter(pk__in=[s.pk for s in individual]).delete()
    joint = Attendance.objects.filter(partner_id__in=user_ids).values("session_id")
    TherapySession.objects.filter(pk__in=joint).update(updated_at=now, partner_updated_at=now)
    Attendance.objects.filter(partner_id__in=user_ids).delete()


def clinical_records_purge(*, now: dt.datetime) -> int:
    """With CLINICAL_RETENTION_YEARS > 0: erase the clinical record of partners erased longer
    ago than that (daily, beat). Returns how many erased users' records went."""
    years = settings.CLINICAL_RETENTION_YEARS
    if years <= 0:
        return 0
    cutoff = now - dt.timedelta(days=365 * years + years // 4)
    user_ids = list(
        User.objects.filter(erased_at__lt=cutoff)
        .filter(
            Q(safety_alerts__isnull=False)
            | Q(attendance__isnull=False)
            | Q(individual_sessions__isnull=False)
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    if user_ids:
        with transaction.atomic():
            clinical_records_erase(user_ids=user_ids, now=now)
    return len(user_ids)
