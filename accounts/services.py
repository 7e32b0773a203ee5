"""Writes of accounts: registration, verification, sign-in, passwords, email change, profile,
and the account's part of an erasure. Keyword-only, atomic; mails leave through tasks queued
after commit, with ids."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail

from accounts import tasks
from accounts.authentication import issue_tokens
from accounts.authentication import user_can_sign_in
from accounts.devices import devices_forget
from accounts.models import PREFERENCE_FIELDS
from accounts.models import EmailVerification
from accounts.models import RefreshRotation
from accounts.models import User
from accounts.models import normalize_email
from accounts.tokens import token_hash
from accounts.tokens import tokens_revoke_all

INVALID_LINK = "This link is invalid or has expired."
ERASED_DISPLAY_NAME = "Former partner"
ERASED_THERAPIST_DISPLAY_NAME = "Former therapist"
PROFILE_FIELDS = ("display_name", "timezone", *PREFERENCE_FIELDS)


def _after_commit(task: Any, *args: str) -> None:
    """Queue a mail task once the transaction commits. Robust: the data is committed by then,
    and a broker hiccup must not turn a success into a 500 (the user can ask again)."""
    send: Callable[[], Any] = functools.partial(task.delay, *args)
    transaction.on_commit(send, robust=True)


def _note(name: str, user: User) -> None:
    _after_commit(tasks.send_account_note, name, str(user.pk))


def _invalid(
    field: str, message: str = INVALID_LINK, code: str = "invalid_token"
) -> ValidationError:
    return ValidationError({field: [ErrorDetail(message, code=code)]})


def _verification_send(*, user: User, email: str, purpose: str, password_hash: str = "") -> None:
    verification = EmailVerification.objects.create(
        user=user,
        email=email,
        purpose=purpose,
        password_hash=password_hash,
        expires_at=timezone.now() + dt.timedelta(seconds=settings.EMAIL_VERIFICATION_TIMEOUT),
    )
    _after_commit(tasks.send_verification_email, str(verification.pk))


# --- registration and sign-in ---


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    display_name: str,
    timezone_name: str = "UTC",
    language: str = User.Language.EN,
) -> None:
    """Start a registration. Same outcome for the caller whatever the address (no enumeration):
    a new address gets a verification link, one with an account a note saying so."""
    email = normalize_email(email)
    # Every branch hashes the password once, so the answer takes as long either way.
    password_hash = make_password(password)
    user = User.objects.select_for_update().filter(email=email).first()
    if user is None:
        user = User(
            email=email, display_name=display_name, timezone=timezone_name, language=language
        )
        # The password waits on the verification: an unconfirmed account cannot sign in.
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # A concurrent registration of the same address won; answer as for that one.
            user = User.objects.select_for_update().get(email=email)
        else:
            _verification_send(
                user=user,
                email=email,
                purpose=EmailVerification.Purpose.REGISTER,
                password_hash=password_hash,
            )
            return
    if user.is_email_verified or not user.is_active or user.erased_at is not None:
        _note("account-exists", user)
        return
    # Nobody has confirmed this address yet: another registration of it. Each link carries
    # the password chosen with it, so whoever holds the mailbox decides which one counts.
    user.display_name = display_name
    user.timezone = timezone_name
    user.language = language
    user.save(update_fields=["display_name", "timezone", "language", "updated_at"])
    _verification_send(
        user=user,
        email=email,
        purpose=EmailVerification.Purpose.REGISTER,
        password_hash=password_hash,
    )


@transaction.atomic
def user_verify_email(*, token: str) -> dict[str, str]:
    """Open a verification link: confirm the address (or move the account to it) and sign in."""
    verification = (
        EmailVerification.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
        .first()
    )
    if verification is None:
        raise _invalid("token")
    user = verification.user
    if not user.is_active or user.erased_at is not None:
        raise _invalid("token")
    now = timezone.now()
    if verification.purpose == EmailVerification.Purpose.REGISTER:
        if verification.email != user.email:
            raise _invalid("token")
        if verification.password_hash:
            user.password = verification.password_hash
        user.email_verified_at = user.email_verified_at or now
        user.save(update_fields=["password", "email_verified_at", "updated_at"])
    else:
        if User.objects.filter(email=verification.email).exclude(pk=user.pk).exists():
            raise _invalid("token")  # the address was taken since the link was sent
        user.email = verification.email
        user.email_verified_at = now
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_verified_at", "updated_at"])
        except IntegrityError:
            raise _invalid("token") from None
    # Single use: this link and any other of the same kind stop working.
    EmailVerification.objects.filter(user=user, purpose=verification.purpose).delete()
    return issue_tokens(user)


def user_sign_in(
    *, email: str, password: str, request: HttpRequest | None
) -> dict[str, str] | None:
    """A token pair, or None for wrong credentials and unverified, inactive or erased accounts
    alike (the caller answers the same 401 for all of them).

    Not wrapped in a transaction: its one write is the outstanding-token row, and a failed
    attempt (the common case under attack) then only reads.
    """
    user = authenticate(request, email=email, password=password)
    if not isinstance(user, User) or not user_can_sign_in(user):
        return None
    return issue_tokens(user)


@transaction.atomic
def unverified_users_purge(*, older_than: dt.timedelta) -> int:
    """Forget registrations nobody confirmed: a stored address alone says someone tried to join.

    Only accounts that were never verified, never erased, hold no membership and are not staff;
    `older_than` should exceed EMAIL_VERIFICATION_TIMEOUT so no live link is orphaned.
    """
    stale = User.objects.filter(
        email_verified_at__isnull=True,
        erased_at__isnull=True,
        is_staff=False,
        date_joined__lt=timezone.now() - older_than,
        memberships__isnull=True,
    )
    deleted, _ = User.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return deleted


# --- passwords ---


def _password_errors(field: str, password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({field: get_error_detail(exc)}) from exc


def _password_set(user: User, password: str, keep_device: uuid.UUID | None = None) -> None:
    """New password: every earlier token ends, pending email changes are dropped (the notice
    of a change tells an owner who did not ask for it to reset their password), and every push
    device but the calling one is forgotten."""
    user.set_password(password)
    user.save(update_fields=["password", "email_verified_at", "updated_at"])
    EmailVerification.objects.filter(user=user).delete()
    tokens_revoke_all(user=user)
    devices_forget(user=user, except_device=keep_device)
    _note("password-changed", user)


@transaction.atomic
def password_change(*, user: User, new_password: str, keep_device: uuid.UUID | None = None) -> None:
    """The caller proved the old password (serializer); every earlier token stops working."""
    _password_set(user, new_password, keep_device)


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Mail a reset link if the address has an account; the caller learns nothing either way."""
    user = User.objects.filter(
        email=normalize_email(email), is_active=True, erased_at__isnull=True
    ).first()
    if user is not None:
        _after_commit(tasks.send_password_reset_email, str(user.pk))


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = uuid.UUID(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return User.objects.select_for_update().filter(pk=pk, is_active=True, erased_at=None).first()


@transaction.atomic
def password_reset_confirm(
    *, uid: str, token: str, new_password: str, keep_device: uuid.UUID | None = None
) -> None:
    """Set a new password from a reset link. Opening a link mailed to the address proves it,
    so an unconfirmed account becomes confirmed too."""
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise _invalid("token")
    _password_errors("new_password", new_password, user)
    user.email_verified_at = user.email_verified_at or timezone.now()
    _password_set(user, new_password, keep_device)


@transaction.atomic
def therapist_create_or_promote(
    *, email: str, password: str, display_name: str
) -> tuple[User, bool]:
    """`manage.py create_therapist`: a verified therapist account, new or promoted; (user,
    created). An existing account's password is replaced like a reset: every token issued
    before stops working (SPEC section 3), and its owner is told."""
    email = normalize_email(email)
    user = User.objects.select_for_update().filter(email=email).first()
    created = user is None
    if user is None:
        user = User(email=email)
    user.display_name = display_name
    user.is_therapist = True
    user.email_verified_at = user.email_verified_at or timezone.now()
    if created:
        user.set_password(password)
        user.save()
    else:
        user.save(update_fields=["display_name", "is_therapist", "email_verified_at", "updated_at"])
        _password_set(user, password)
    return user, created


# --- profile and email ---


@transaction.atomic
def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    """Preferences and display name; everything else of the profile is read-only here."""
    fields = [name for name in PROFILE_FIELDS if name in data]
    for name in fields:
        setattr(user, name, data[name])
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
    return user


@transaction.atomic
def email_change_request(*, user: User, new_email: str) -> None:
    """Send a link to the new address (the change happens when it is opened) and a notice to
    the current one. A taken address gets a note instead, and the caller the same answer."""
    new_email = normalize_email(new_email)
    EmailVerification.objects.filter(
        user=user, purpose=EmailVerification.Purpose.EMAIL_CHANGE
    ).delete()
    holder = User.objects.filter(email=new_email).exclude(pk=user.pk).first()
    if holder is None:
        _verification_send(
            user=user, email=new_email, purpose=EmailVerification.Purpose.EMAIL_CHANGE
        )
    else:
        _note("email-taken", holder)
    _note("email-change-notice", user)


# --- erasure: engagement/privacy/erasure.py erases the user, and calls this for the account ---


def account_anonymise(*, user: User, email: str, now: dt.datetime) -> None:
    """The account's own part of an erasure: its pending email changes, rotations, devices,
    profile and preferences go, and every token stops working. The row stays, anonymised under
    `email` (a placeholder), for what belongs to others. The caller holds the user locked."""
    EmailVerification.objects.filter(user=user).delete()
    RefreshRotation.objects.filter(user=user).delete()
    devices_forget(user=user)

    user.display_name = ERASED_THERAPIST_DISPLAY_NAME if user.is_therapist else ERASED_DISPLAY_NAME
    user.email = email
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.is_therapist = False
    user.erased_at = now
    user.email_verified_at = None
    user.last_login = None
    user.timezone = "UTC"
    # No digest may ever go out for an erased account.
    user.weekly_digest = False
    user.digest_detail = User.DigestDetail.MINIMAL
    user.digest_weekday = 0
    user.digest_hour = 8
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    tokens_revoke_all(user=user)
    # The admin's history keeps the user's name as it was (`object_repr`): rename it as the
    # row reads now, anonymised; what was done and when stays.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=str(user)[:200])
