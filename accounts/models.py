"""The user: UUID id, email as the login (case-insensitive unique), digest and reminder
preferences, language; and the push devices a user registered."""

from __future__ import annotations

import zoneinfo
from typing import Any
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone

from config.model_base import UUIDModel


def validate_timezone(value: str) -> None:
    """Only IANA names that zoneinfo knows."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known IANA timezone.", code="invalid_timezone")


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively; store them trimmed and lower-cased."""
    return email.strip().lower()


# The preferences a user sets for themselves (SPEC section 2): the API's profile and the admin's
# user page list them in this order.
PREFERENCE_FIELDS = (
    "weekly_digest",
    "digest_detail",
    "digest_weekday",
    "digest_hour",
    "checkin_reminder",
    "reminder_hour",
    "reminder_email",
    "language",
)


class UserQuerySet(models.QuerySet["User"]):
    def update(self, **kwargs: Any) -> int:
        """A bulk update invalidates the authentication cache of every row it reaches (the
        generation bump of a logout-all, the admin's therapist grant and withdrawal):
        accounts/auth_cache.py."""
        from accounts import auth_cache

        if auth_cache.enabled():
            # Tombstoned now and again on commit, before the rows change: a request reading
            # the old row meanwhile cannot cache it.
            auth_cache.invalidate(list(self.values_list("pk", flat=True)))
        return super().update(**kwargs)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=normalize_email(email), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified_at", django_timezone.now())
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))


class User(UUIDModel, AbstractBaseUser, PermissionsMixin):
    """A person using Duet: a partner, or a therapist once an admin grants it."""

    class DigestDetail(models.TextChoices):
        FULL = "full", "Full"
        MINIMAL = "minimal", "Minimal"

    class Language(models.TextChoices):
        EN = "en", "English"
        ES = "es", "Español"

    email = models.EmailField(max_length=254, unique=True)
    display_name = models.CharField(max_length=80)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_therapist = models.BooleanField(default=False)
    weekly_digest = models.BooleanField(default=True)
    digest_detail = models.CharField(
        max_length=8, choices=DigestDetail.choices, default=DigestDetail.FULL
    )
    digest_weekday = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    digest_hour = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(0), MaxValueValidator(23)]
    )
    # Check-in reminders (SPEC sections 2 and 6): to the devices, by email only when asked.
    checkin_reminder = models.BooleanField(default=True)
    reminder_hour = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(0), MaxValueValidator(23)]
    )
    reminder_email = models.BooleanField(default=False)
    # Emails and pushes are written in it (SPEC section 3).
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # Every JWT carries the generation it was issued in; bumping it (password change or reset,
    # theft detection, erasure) makes every earlier token fail at once.
    token_generation = models.PositiveIntegerField(default=0)
    erased_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=django_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ("date_joined", "id")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(digest_weekday__gte=0, digest_weekday__lte=6),
                name="user_digest_weekday_range",
            ),
            models.CheckConstraint(
                condition=models.Q(digest_hour__gte=0, digest_hour__lte=23),
                name="user_digest_hour_range",
            ),
            models.CheckConstraint(
                condition=models.Q(reminder_hour__gte=0, reminder_hour__lte=23),
                name="user_reminder_hour_range",
            ),
        ]

    def __str__(self) -> str:
        # The admin identifies people by address (its read-only inlines print this). Its
        # history copies the text into LogEntry.object_repr: erasure renames those entries
        # (engagement/privacy/erasure.py, user_erase).
        return f"{self.display_name} <{self.email}>"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def refresh_from_db(
        self, using: str | None = None, fields: Any = None, from_queryset: Any = None
    ) -> None:
        # A user authenticated from the cache (accounts/auth_cache.py) carries a few fields;
        # the first other one read loads all the rest in one query, not one query per field.
        deferred = self.get_deferred_fields()
        if fields is not None and deferred and set(fields) <= deferred:
            fields = deferred
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None


class EmailVerification(UUIDModel):
    """A link that proves an address: at registration, or to change the account's email.

    Only the token's hash is stored. The token itself is made by the mail task (so it never
    travels through the broker), which writes its hash here; a retried task makes a new one.
    """

    class Purpose(models.TextChoices):
        REGISTER = "register", "Registration"
        EMAIL_CHANGE = "email_change", "Email change"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_verifications")
    email = models.EmailField(max_length=254)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    # A registration's chosen password waits here (hashed, like the user's own) and is applied
    # when its link is opened: if two people register one address, each link carries its own.
    password_hash = models.CharField(max_length=128, blank=True, default="")
    # Null until the mail task has made and sent the token.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self) -> str:
        return f"{self.purpose} verification for {self.user_id}"


class RefreshRotation(models.Model):
    """A refresh token that was exchanged for a new pair (SPEC section 3).

    Within the grace window the same token gets the same pair again; later it is treated as
    stolen. The new pair is not stored: it is re-derived from the presented token and
    `rotated_at` (accounts/tokens.py), so nothing here can be replayed as a credential.
    """

    jti = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_rotations")
    rotated_at = models.DateTimeField()
    replacement_jti = models.CharField(max_length=255)
    # When the rotated token would have expired anyway: the row is useless after that.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("rotated_at", "id")

    def __str__(self) -> str:
        return f"refresh {self.jti} rotated {self.rotated_at:%Y-%m-%d %H:%M:%S}"


class Device(UUIDModel):
    """A phone or browser that receives the user's pushes (SPEC section 2, Device).

    The token is a credential to reach the user: it is written once, never read back by the API,
    the export or the admin. `token_digest` identifies it (for Web Push, by its endpoint), so a
    token belongs to one user at a time and registering it again refreshes the same row.
    """

    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"
        WEB = "web", "Web"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    platform = models.CharField(max_length=7, choices=Platform.choices)
    # An FCM or APNs registration token, or a Web Push subscription as canonical JSON.
    token = models.TextField()
    token_digest = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=django_timezone.now)
    last_seen_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["user", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} device {self.name or str(self.id)[:8]}"
