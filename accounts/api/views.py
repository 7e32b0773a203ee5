"""Views of the accounts API: /auth/* (sign-up, sign-in, tokens, passwords) and /me/*."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework import status
from rest_framework import viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts import devices
from accounts import services
from accounts import tokens
from accounts.api import serializers as s
from accounts.languages import language_from_accept
from accounts.models import Device
from accounts.models import User
from accounts.throttling import AuthEmailThrottle
from accounts.throttling import AuthIPThrottle
from accounts.throttling import FailedSignIns
from accounts.throttling import RequestRateThrottle
from accounts.throttling import client_ip
from config.api.schema import ErrorResponse401Serializer

ACCEPTED = OpenApiResponse(description="Accepted. The same answer whatever the address.")
NO_CONTENT = OpenApiResponse(description="Done.")

# Sign-up and recovery: per client address and per email, each flow in its own buckets
# (SPEC 3). Sign-in counts its failures apart (TokenObtainView).
AUTH_THROTTLES: list[type[BaseThrottle]] = [RequestRateThrottle, AuthIPThrottle, AuthEmailThrottle]


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _validated(
    serializer_class: type[BaseSerializer[Any]], request: Request, *, with_request: bool = False
) -> Any:
    """The request's body validated by `serializer_class` (else 400 naming the fields);
    `with_request` gives the serializer the request, for those that check the caller."""
    context = {"request": request} if with_request else {}
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# What a form answers: 202 or 204 with no body, or 200 with the handler's result in this
# serializer.
Answer = int | type[BaseSerializer[Any]]
_NO_BODY = {status.HTTP_202_ACCEPTED: ACCEPTED, status.HTTP_204_NO_CONTENT: NO_CONTENT}


def form(
    body: type[BaseSerializer[Any]],
    answer: Answer,
    *,
    operation_id: str,
    description: str,
    with_request: bool = False,
    refusal: bool = False,
) -> Callable[[Callable[[Any, Request, Any], Any]], Callable[[Any, Request], Response]]:
    """A POST whose body `body` validates (else 400 naming the fields; `with_request` gives the
    serializer the request, for those that check the caller): the decorated handler takes the
    validated data and does the work, and the view answers `answer`, documented; `refusal`
    documents the 401 of a handler that refuses credentials."""
    response: Any
    if isinstance(answer, int):
        code, response = answer, _NO_BODY[answer]
    else:
        code, response = status.HTTP_200_OK, answer
    responses: dict[int, Any] = {code: response}
    if refusal:
        responses[status.HTTP_401_UNAUTHORIZED] = ErrorResponse401Serializer

    def decorate(handler: Callable[[Any, Request, Any], Any]) -> Callable[[Any, Request], Response]:
        @functools.wraps(handler)
        def post(view: Any, request: Request) -> Response:
            result = handler(view, request, _validated(body, request, with_request=with_request))
            if isinstance(answer, int):
                return Response(status=answer)
            return Response(answer(result).data)

        documented = extend_schema(
            operation_id=operation_id, request=body, responses=responses, description=description
        )
        return documented(post)

    return decorate


class PublicAuthView(APIView):
    """No bearer token needed, and a stale one sent along is ignored rather than refused."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = AUTH_THROTTLES

    def get_authenticate_header(self, request: Request) -> str:
        # Keeps 401 a 401: DRF turns it into 403 for views without an authentication scheme.
        return 'Bearer realm="api"'


class SignedInView(APIView):
    permission_classes = [IsAuthenticated]


class RegisterView(PublicAuthView):
    @form(
        s.RegisterSerializer,
        status.HTTP_202_ACCEPTED,
        operation_id="auth_register",
        description=(
            "Start a registration. Answers 202 whatever the address: a new address receives a "
            "verification link, one that already has an account a note saying so. The "
            "account's `language` is the first of `en` and `es` that `Accept-Language` asks "
            "for, else `en`."
        ),
    )
    def post(self, request: Request, data: Any) -> None:
        services.user_register(
            email=data["email"],
            password=data["password"],
            display_name=data["display_name"],
            timezone_name=data["timezone"],
            language=language_from_accept(request.headers.get("Accept-Language", "")),
        )


class VerifyEmailView(PublicAuthView):
    throttle_classes = [RequestRateThrottle, AuthIPThrottle]

    @form(
        s.VerifyEmailSerializer,
        s.TokenPairSerializer,
        operation_id="auth_verify",
        description="Open a verification link: confirms the address and signs in.",
    )
    def post(self, request: Request, data: Any) -> Any:
        return services.user_verify_email(token=data["token"])


class TokenObtainView(PublicAuthView):
    # Failed attempts are counted in the view (FailedSignIns): a success never counts.
    throttle_classes = [RequestRateThrottle]

    @form(
        s.TokenObtainSerializer,
        s.TokenPairSerializer,
        operation_id="auth_token",
        description="Sign in. 401 alike for wrong credentials and for an unverified email.",
        refusal=True,
    )
    def post(self, request: Request, data: Any) -> Any:
        email = data["email"]
        attempts = FailedSignIns(email=email, ip=client_ip(request))
        wait = attempts.reserve()
        if wait is not None:
            raise Throttled(wait=wait)
        pair = services.user_sign_in(
            email=email,
            password=data["password"],
            request=request._request,
        )
        if pair is None:
            raise AuthenticationFailed(
                "No active account found with the given credentials.", code="no_active_account"
            )
        attempts.forgive()
        return pair


class TokenRefreshView(PublicAuthView):
    # Refresh tokens are unguessable; the general anonymous rate is enough here.
    throttle_classes = [RequestRateThrottle]

    @form(
        s.RefreshSerializer,
        s.TokenPairSerializer,
        operation_id="auth_token_refresh",
        description=(
            "Rotate a refresh token. Presented again within the grace window it returns the "
            "same pair; later it is treated as stolen and every token of the account is revoked."
        ),
        refusal=True,
    )
    def post(self, request: Request, data: Any) -> Any:
        try:
            return tokens.refresh_rotate(raw=data["refresh"])
        except tokens.RefreshRejected:
            raise AuthenticationFailed(
                "Token is invalid or expired.", code="token_not_valid"
            ) from None


class LogoutView(PublicAuthView):
    throttle_classes = [RequestRateThrottle]

    @form(
        s.LogoutSerializer,
        status.HTTP_204_NO_CONTENT,
        operation_id="auth_logout",
        description=(
            "Revoke a refresh token. Idempotent: an already revoked one answers 204 too. Given "
            "`device_token`, the device registered with it stops receiving the account's pushes."
        ),
    )
    def post(self, request: Request, data: Any) -> None:
        tokens.refresh_revoke(raw=data["refresh"])
        if "device_token" in data:
            devices.device_forget_at_logout(raw_refresh=data["refresh"], token=data["device_token"])


class PasswordChangeView(SignedInView):
    throttle_classes = [RequestRateThrottle, AuthIPThrottle]

    @form(
        s.PasswordChangeSerializer,
        status.HTTP_204_NO_CONTENT,
        operation_id="auth_password_change",
        description=(
            "Change the password. Every token issued before stops working, and every push "
            "device of the account is forgotten but the one named in `device`."
        ),
        with_request=True,
    )
    def post(self, request: Request, data: Any) -> None:
        services.password_change(
            user=_user(request),
            new_password=data["new_password"],
            keep_device=data.get("device"),
        )


class PasswordResetView(PublicAuthView):
    @form(
        s.PasswordResetSerializer,
        status.HTTP_202_ACCEPTED,
        operation_id="auth_password_reset",
        description="Mail a reset link valid one hour, if the address has an account.",
    )
    def post(self, request: Request, data: Any) -> None:
        services.password_reset_request(email=data["email"])


class PasswordResetConfirmView(PublicAuthView):
    throttle_classes = [RequestRateThrottle, AuthIPThrottle]

    @form(
        s.PasswordResetConfirmSerializer,
        status.HTTP_204_NO_CONTENT,
        operation_id="auth_password_reset_confirm",
        description=(
            "Set a new password from a reset link. Every earlier token stops working, and every "
            "push device of the account is forgotten but the one named in `device`."
        ),
    )
    def post(self, request: Request, data: Any) -> None:
        services.password_reset_confirm(
            uid=data["uid"],
            token=data["token"],
            new_password=data["new_password"],
            keep_device=data.get("device"),
        )


# `DELETE /me/` erases the account: engagement/api/privacy.py adds it to this view (erasing
# reaches the couples too), and routes `/me/`. No docstring: it would describe the operations.
class MeView(SignedInView):
    @extend_schema(operation_id="me_retrieve", responses={200: s.MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(_user(request)).data)

    @extend_schema(
        operation_id="me_partial_update",
        request=s.MeSerializer,
        responses={200: s.MeSerializer},
    )
    def patch(self, request: Request) -> Response:
        serializer = s.MeSerializer(_user(request), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=_user(request), data=serializer.validated_data)
        return Response(s.MeSerializer(user).data)


class EmailChangeView(SignedInView):
    # Per address too: nobody may use this to flood someone else's inbox.
    throttle_classes = [RequestRateThrottle, AuthIPThrottle, AuthEmailThrottle]

    @form(
        s.EmailChangeSerializer,
        status.HTTP_202_ACCEPTED,
        operation_id="me_email_change",
        description=(
            "The new address gets a verification link (the change happens when it is opened), "
            "the current one a notice. The same answer if the new address is taken."
        ),
        with_request=True,
    )
    def post(self, request: Request, data: Any) -> None:
        services.email_change_request(user=_user(request), new_email=data["email"])


class DeviceViewSet(
    mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet[Device]
):
    """The caller's push devices (SPEC section 2, Device): register or refresh, list, forget.
    Tokens are write-only; another user's device id answers 404."""

    serializer_class = s.DeviceSerializer
    permission_classes = [IsAuthenticated]
    list_ordering = ("-created_at", "id")
    supports_sync = False

    def get_queryset(self) -> QuerySet[Device]:
        if getattr(self, "swagger_fake_view", False):
            return Device.objects.none()  # the schema generator has no signed-in user
        return Device.objects.filter(user=_user(self.request))

    @extend_schema(
        operation_id="me_devices_list",
        description="The caller's devices, newest first (at most 10). Tokens are never shown.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="me_devices_register",
        request=s.DeviceRegisterSerializer,
        responses={201: s.DeviceSerializer, 200: s.DeviceSerializer},
        description=(
            "Register a device (201), or refresh the one with this token (200). A token "
            "registered by another account moves to the caller. At most 10 devices: the least "
            "recently seen beyond that are dropped."
        ),
    )
    def create(self, request: Request) -> Response:
        data = _validated(s.DeviceRegisterSerializer, request)
        device, created = devices.device_register(
            user=_user(request),
            platform=data["platform"],
            token=data["token"],
            name=data.get("name"),
        )
        return Response(
            s.DeviceSerializer(device).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="me_devices_destroy",
        responses={204: NO_CONTENT},
        description="Forget a device: it receives no more pushes.",
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)
