"""factory_boy factories for the models, shared by every test."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import factory
from django.utils import timezone

from accounts.models import User
from engagement.models import Attendance
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import TherapySession

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name: Any = factory.Faker("first_name")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password(PASSWORD)


class TherapistFactory(UserFactory):
    is_therapist = True
    display_name: Any = factory.Sequence(lambda n: f"Dr. Therapist {n}")


class CoupleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Couple
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Couple {n}")
    timezone = "UTC"

    @factory.post_generation
    def status_history(obj: Couple, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            CoupleStatusChange.objects.create(
                couple=obj, status=obj.status, changed_at=obj.created_at
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    couple = factory.SubFactory(CoupleFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.PARTNER
    partner_slot = 1


def make_couple(
    *,
    therapist: User | bool | None = True,
    joined_at: dt.datetime | None = None,
    **couple_fields: Any,
) -> tuple[Couple, User, User, User | None]:
    """A couple with two partners and (by default) a therapist: (couple, p1, p2, therapist)."""
    couple: Couple = CoupleFactory.create(**couple_fields)
    joined = joined_at or couple.created_at
    p1: User = UserFactory.create()
    p2: User = UserFactory.create()
    Membership.objects.create(
        couple=couple, user=p1, role="partner", partner_slot=1, joined_at=joined
    )
    Membership.objects.create(
        couple=couple, user=p2, role="partner", partner_slot=2, joined_at=joined
    )
    therapist_user: User | None = None
    if therapist:
        therapist_user = therapist if isinstance(therapist, User) else TherapistFactory.create()
        Membership.objects.create(
            couple=couple, user=therapist_user, role="therapist", joined_at=joined
        )
    return couple, p1, p2, therapist_user


class TherapySessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TherapySession

    couple = factory.SubFactory(CoupleFactory)
    kind = TherapySession.Kind.JOINT
    starts_at = factory.LazyFunction(timezone.now)


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    session = factory.SubFactory(TherapySessionFactory)
    status = Attendance.Status.ATTENDED


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    title = factory.Sequence(lambda n: f"Commitment {n}")
    due_on = factory.LazyFunction(lambda: timezone.now().date())
    visibility = Commitment.Visibility.COUPLE


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    date = factory.LazyFunction(lambda: timezone.now().date())
    mood = 3
    visibility = "couple"


def make_invitation(
    *,
    couple: Couple,
    invited_by: User,
    role: str = "partner",
    email: str = "invitee@example.com",
    token: str | None = None,
    **fields: Any,
) -> tuple[Invitation, str]:
    """A pending invitation stored as the service stores it: (invitation, raw token)."""
    raw = token or secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        couple=couple,
        invited_by=invited_by,
        role=role,
        email=email,
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        expires_at=fields.pop("expires_at", timezone.now() + dt.timedelta(days=7)),
        **fields,
    )
    return invitation, raw


def couples_in_bulk(partners: Sequence[User], name: str = "C") -> list[Couple]:
    """Couples of two partners each, written in bulk (no therapist, no status history): the
    first two users in `C0`, the next two in `C1`, and so on."""
    couples = Couple.objects.bulk_create(
        Couple(name=f"{name}{i}") for i in range(len(partners) // 2)
    )
    Membership.objects.bulk_create(
        Membership(couple=c, user=partners[2 * i + slot], role="partner", partner_slot=slot + 1)
        for i, c in enumerate(couples)
        for slot in (0, 1)
    )
    return couples
