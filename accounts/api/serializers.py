"""Serializers of the accounts API: they validate input (credentials included) and shape output."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

import jwt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from accounts.devices import MAX_ENDPOINT_LENGTH
from accounts.devices import MAX_TOKEN_LENGTH
from accounts.devices import InvalidToken
from accounts.devices import canonical_token as _canonical_token
from accounts.devices import web_subscription
from accounts.models import PREFERENCE_FIELDS
from accounts.models import Device
from accounts.models import User
from accounts.models import normalize_email
from accounts.models import validate_timezone
from accounts.validators import validate_name
from config.api.fields import AwareDateTimeField
from config.api.fields import ModelSerializer
from config.api.fields import StringField

# Long enough for any passphrase, short enough that hashing it is no denial of service.
PASSWORD_MAX_LENGTH = 256


def password_field() -> StringField:
    return StringField(
        write_only=True,
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        style={"input_type": "password"},
    )


def _validate_new_password(field: str, password: str, user: User) -> None:
    """Django's password validators, their errors named after the field (SPEC section 3)."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: get_error_detail(exc)}) from exc


class CurrentPasswordMixin:
    """Checks a `password`-like field against the signed-in user."""

    context: dict[str, Any]

    def _check_current(self, value: str) -> str:
        user = self.context["request"].user
        if not user.check_password(value):
            raise serializers.ValidationError(
                "The password is not correct.", code="incorrect_password"
            )
        return value


def _expires_at(token: str) -> datetime:
    """When a token this server has just signed expires: its `exp` claim. The signature is not
    checked again (the token never left the process)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)


class TokenPairSerializer(serializers.Serializer):
    """The pair and when each expires, so apps refresh ahead of time without decoding the JWT
    (SPEC section 3)."""

    access = StringField(read_only=True)
    refresh = StringField(read_only=True)
    access_expires_at = AwareDateTimeField(read_only=True)
    refresh_expires_at = AwareDateTimeField(read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        pair = {"access": instance["access"], "refresh": instance["refresh"]}
        pair["access_expires_at"] = _expires_at(pair["access"])
        pair["refresh_expires_at"] = _expires_at(pair["refresh"])
        return dict(super().to_representation(pair))


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field()
    display_name = StringField(min_length=1, max_length=80, validators=[validate_name])
    timezone = StringField(
        max_length=64, required=False, default="UTC", validators=[validate_timezone]
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Judged against the would-be account alone, so the answer cannot depend on whether
        # an account already exists.
        candidate = User(email=normalize_email(attrs["email"]), display_name=attrs["display_name"])
        _validate_new_password("password", attrs["password"], candidate)
        return attrs


class VerifyEmailSerializer(serializers.Serializer):
    token = StringField(max_length=256, write_only=True)


class TokenObtainSerializer(serializers.Serializer):
    # Not an EmailField: a malformed address is just wrong credentials (401), like any other.
    email = StringField(max_length=254, write_only=True)
    password = password_field()


class RefreshSerializer(serializers.Serializer):
    refresh = StringField(max_length=4096, write_only=True)


# A device's push token: a string (FCM, APNs) or a Web Push subscription object.
_TOKEN_SCHEMA = {
    "oneOf": [
        {"type": "string", "maxLength": MAX_TOKEN_LENGTH},
        {
            "type": "object",
            "properties": {
                "endpoint": {"type": "string", "format": "uri", "maxLength": MAX_ENDPOINT_LENGTH},
                "keys": {
                    "type": "object",
                    "properties": {"p256dh": {"type": "string"}, "auth": {"type": "string"}},
                    "required": ["p256dh", "auth"],
                },
            },
            "required": ["endpoint", "keys"],
        },
    ],
    "description": (
        "An FCM or APNs registration token, or for `web` the subscription "
        "`{endpoint, keys: {p256dh, auth}}` of `PushSubscription.toJSON()`. Write-only."
    ),
}


@extend_schema_field(_TOKEN_SCHEMA)
class PushTokenField(serializers.JSONField):
    """A push token as sent: a string or a subscription object, nothing else."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str | dict):
            raise serializers.ValidationError(
                "Must be a token string or a subscription object.", code="invalid"
            )
        if isinstance(data, str) and len(data) > MAX_TOKEN_LENGTH:
            raise serializers.ValidationError(
                f"Ensure this field has no more than {MAX_TOKEN_LENGTH} characters.",
                code="max_length",
            )
        return data


class SignOutPushTokenField(PushTokenField):
    """The device token given at logout: a subscription object must be a whole one (found by
    make fuzz: `{endpoint}` without `keys` was taken). Registration checks it part by part."""

    def to_internal_value(self, data: Any) -> Any:
        data = super().to_internal_value(data)
        if isinstance(data, dict):
            try:
                web_subscription(data)
            except InvalidToken as error:
                raise serializers.ValidationError(str(error), code="invalid") from None
        return data


class LogoutSerializer(RefreshSerializer):
    device_token = SignOutPushTokenField(
        write_only=True,
        required=False,
        help_text=(
            "The push token of the device signing out (as registered): that device stops "
            "receiving the account's pushes."
        ),
    )


def device_name_field() -> StringField:
    return StringField(max_length=80, required=False, allow_null=True)


def _check_name(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        validate_name(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages[0], code=error.code) from None
    if not value:
        raise serializers.ValidationError("A name needs at least one visible character.")
    return value


class DeviceSerializer(ModelSerializer):
    """A push device as the API shows it: never its token (SPEC section 2, Device)."""

    class Meta:
        model = Device
        fields = ("id", "platform", "name", "created_at", "last_seen_at")
        read_only_fields = fields


class DeviceRegisterSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    token = PushTokenField(write_only=True)
    name = device_name_field()

    def validate_name(self, value: str | None) -> str | None:
        return _check_name(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            _canonical_token(attrs["platform"], attrs["token"])
        except InvalidToken as exc:
            attr = "token" if not exc.field else f"token.{exc.field}"
            raise serializers.ValidationError(
                {attr: [serializers.ErrorDetail(str(exc), code="invalid_token")]}
            ) from None
        return attrs


def _calling_device_field() -> serializers.UUIDField:
    return serializers.UUIDField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text=(
            "The id of the calling device (from `/me/devices/`): it keeps receiving pushes "
            "while every other device of the account is forgotten."
        ),
    )


class PasswordChangeSerializer(CurrentPasswordMixin, serializers.Serializer):
    old_password = password_field()
    new_password = password_field()
    device = _calling_device_field()

    def validate_old_password(self, value: str) -> str:
        return self._check_current(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _validate_new_password("new_password", attrs["new_password"], self.context["request"].user)
        return attrs


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, write_only=True)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = StringField(max_length=64, write_only=True)
    token = StringField(max_length=128, write_only=True)
    new_password = password_field()
    device = _calling_device_field()


class PasswordConfirmSerializer(CurrentPasswordMixin, serializers.Serializer):
    """`DELETE /me/` asks for the password once more."""

    password = password_field()

    def validate_password(self, value: str) -> str:
        return self._check_current(value)


class EmailChangeSerializer(CurrentPasswordMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254, write_only=True)
    password = password_field()

    def validate_password(self, value: str) -> str:
        return self._check_current(value)

    def validate_email(self, value: str) -> str:
        if normalize_email(value) == self.context["request"].user.email:
            raise serializers.ValidationError(
                "This is already the account's email address.", code="same_email"
            )
        return value


class MeSerializer(ModelSerializer):
    """The caller's profile and preferences (SPEC section 2, User)."""

    display_name = StringField(min_length=1, max_length=80, validators=[validate_name])

    class Meta:
        model = User
        fields: tuple[str, ...] = (
            "id",
            "email",
            "display_name",
            "timezone",
            "is_therapist",
            *PREFERENCE_FIELDS,
            "date_joined",
        )
        read_only_fields = ("id", "email", "is_therapist", "date_joined")
