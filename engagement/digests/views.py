"""One-click unsubscribe from the weekly digest (RFC 8058), served by the API itself."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from config.api.schema import AutoSchema
from engagement.digests.unsubscribe import Kind
from engagement.digests.unsubscribe import email_unsubscribe
from engagement.digests.unsubscribe import subscription_for_token

PAGE = "emails/digest-unsubscribe-page.html"


# The body mail clients POST (RFC 8058); the confirmation page's form sends the same.
_ONE_CLICK_BODY = inline_serializer(
    name="OneClickUnsubscribe",
    fields={
        "List-Unsubscribe": serializers.CharField(
            required=False, help_text="`One-Click`, as RFC 8058 has mail clients send it."
        )
    },
)


class UnsubscribeSchema(AutoSchema):
    """Only the errors this endpoint can answer: its own HTML 400 (documented on each
    operation) and the anonymous throttle's 429; it has no object to miss, and reads no body
    it could refuse."""

    def _should_add_error_response(self, responses: dict[str, Any], status_code: str) -> bool:
        return status_code == "429" and super()._should_add_error_response(responses, status_code)


_TOKEN = OpenApiParameter(
    "token",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    description="The signed token of the digest's List-Unsubscribe link.",
)
_HTML = OpenApiResponse(OpenApiTypes.STR, description="An HTML page.")


def _page(
    state: str,
    *,
    token: str = "",
    status: int = 200,
    kind: Kind = Kind.DIGEST,
    language: str = "en",
) -> HttpResponse:
    with translation.override(language):
        page = render_to_string(PAGE, {"state": state, "token": token, "kind": kind.value})
    response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    return response


class DigestUnsubscribeView(APIView):
    """Anyone holding the link may turn that user's weekly digest off: no sign-in, no CSRF
    (there is no session to ride on), and a GET never changes anything, since mail scanners
    and link previews follow links on their own."""

    authentication_classes = []
    permission_classes = [AllowAny]
    # Mail clients post form-encoded or multipart (RFC 8058 section 3.1).
    parser_classes = [FormParser, MultiPartParser]
    schema = UnsubscribeSchema()

    @extend_schema(
        operation_id="digests_unsubscribe_confirm",
        summary="Confirm unsubscribing from the weekly digest",
        description=(
            "Answers an HTML page with a button that POSTs to the same URL. Changes nothing: "
            "mail scanners and link previews open links by themselves."
        ),
        parameters=[_TOKEN],
        responses={(200, "text/html"): _HTML, (400, "text/html"): _HTML},
        auth=[],
        tags=["digests"],
    )
    def get(self, request: Request) -> HttpResponse:
        token = request.query_params.get("token", "")
        found = subscription_for_token(token)
        if found is None:
            return _page("invalid", status=400)
        user, kind = found
        return _page("confirm", token=token, kind=kind, language=user.language)

    @extend_schema(
        operation_id="digests_unsubscribe",
        summary="Unsubscribe from the weekly digest in one click (RFC 8058)",
        description=(
            "Mail clients POST `List-Unsubscribe=One-Click`, form-encoded, to the URL of the "
            "email's `List-Unsubscribe` header. Turns `weekly_digest` off (a digest's link) or "
            "`reminder_email` off (a check-in reminder's link); idempotent."
        ),
        parameters=[_TOKEN],
        request={
            "application/x-www-form-urlencoded": _ONE_CLICK_BODY,
            "multipart/form-data": _ONE_CLICK_BODY,
        },
        responses={(200, "text/html"): _HTML, (400, "text/html"): _HTML},
        auth=[],
        tags=["digests"],
    )
    def post(self, request: Request) -> HttpResponse:
        found = subscription_for_token(request.query_params.get("token", ""))
        if found is None:
            return _page("invalid", status=400)
        user, kind = found
        email_unsubscribe(user_id=user.pk, kind=kind)
        return _page("done", kind=kind, language=user.language)
