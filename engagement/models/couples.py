"""A couple, its memberships (at most two partners, enforced by the database) and invitations."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django.utils.dateparse import parse_datetime

from accounts.models import validate_timezone
from config.model_base import UUIDModel
from engagement.models.timestamps import PerReaderTimestamps


class Couple(UUIDModel, PerReaderTimestamps):
    # The hold changes nothing a partner can read (SPEC section 1), not even `updated_at`.
    PARTNER_HIDDEN_FIELDS = frozenset({"safety_hold"})

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    # What partners and therapists set (the API shows them; staff change them in the admin, all
    # through couple_update).
    SETTINGS = (
        "name",
        "timezone",
        "checkin_target_per_week",
        "partners_see_balance",
        "safety_hold",
        "status",
    )

    # Therapists are advised to use initials or a pseudonym (docs/architecture.md).
    name = models.CharField(max_length=80, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    checkin_target_per_week = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(0), MaxValueValidator(7)]
    )
    partners_see_balance = models.BooleanField(default=True)
    safety_hold = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(checkin_target_per_week__lte=7), name="couple_checkin_target_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Couple {str(self.id)[:8]}"


class CoupleStatusChange(models.Model):
    """When a couple became active, paused or ended: weeks touched by a pause get no report."""

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=8, choices=Couple.Status.choices)
    changed_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ("changed_at", "id")
        indexes = [models.Index(fields=["couple", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.status} since {self.changed_at:%Y-%m-%d %H:%M}"


class Membership(UUIDModel):
    """A user's place in a couple. Leaving keeps the row (former members still resolve)."""

    class Role(models.TextChoices):
        PARTNER = "partner", "Partner"
        THERAPIST = "therapist", "Therapist"

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=9, choices=Role.choices)
    # Active partners hold slot 1 or 2; a unique (couple, slot) makes a third partner
    # impossible even when two invitations are accepted at the same instant.
    partner_slot = models.PositiveSmallIntegerField(null=True, blank=True)
    shares_balance = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=django_timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("joined_at", "id")
        indexes = [models.Index(fields=["user", "left_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "user"],
                condition=Q(left_at__isnull=True),
                name="membership_one_active_per_user",
            ),
            models.UniqueConstraint(
                fields=["couple", "partner_slot"],
                condition=Q(left_at__isnull=True, partner_slot__isnull=False),
                name="membership_two_partner_slots",
            ),
            models.CheckConstraint(
                condition=Q(partner_slot__isnull=True) | Q(partner_slot__in=[1, 2]),
                name="membership_partner_slot_values",
            ),
            models.CheckConstraint(
                condition=Q(role="partner") | Q(partner_slot__isnull=True),
                name="membership_slot_only_for_partners",
            ),
            models.CheckConstraint(
                condition=~Q(role="partner")
                | Q(left_at__isnull=False)
                | Q(partner_slot__isnull=False),
                name="membership_active_partner_has_slot",
            ),
        ]

    def __str__(self) -> str:
        state = "former " if self.left_at else ""
        return f"{state}{self.role} {self.user_id} in {self.couple_id}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None


class Invitation(UUIDModel):
    """An invitation to join a couple; only the token's hash is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=9, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="invitations_sent",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_accepted",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    # A therapist invitation sent by a partner needs every other active partner's approval
    # (SPEC section 1): then a list of {"partner": id, "approved_at": timestamp}, in the order
    # given; null for invitations that need none. Kept on the row, so a list reads no more.
    approvals = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "id")
        indexes = [
            models.Index(fields=["couple", "status"]),
            models.Index(fields=["couple", "invited_by", "status"]),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} as {self.role} ({self.status})"

    @property
    def effective_status(self) -> str:
        """A pending invitation past its expiry reads as expired."""
        if self.status == self.Status.PENDING and self.expires_at <= django_timezone.now():
            return self.Status.EXPIRED
        return self.status

    @property
    def needs_approval(self) -> bool:
        return self.approvals is not None

    @property
    def approved_by(self) -> set[str]:
        """Ids (as strings) of the partners who approved it."""
        return {entry["partner"] for entry in self.approvals or []}

    @property
    def approval_entries(self) -> list[dict[str, object]] | None:
        """The approvals with their timestamps parsed, for the API."""
        if self.approvals is None:
            return None
        return [
            {"partner": entry["partner"], "approved_at": parse_datetime(entry["approved_at"])}
            for entry in self.approvals
        ]
