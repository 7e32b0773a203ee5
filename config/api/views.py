"""Endpoints of the service itself: liveness, readiness and client metadata."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.utils import timezone
from django.utils import translation
from django.views import defaults
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.fields import utc_timestamp
from config.api.middleware import is_api
from config.api.middleware import not_found_response
from config.celery import app as celery_app
from config.safety_resources import resources_for

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def _database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("readiness: database unreachable")
        return False
    return True


def _broker_ready() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        logger.exception("readiness: broker unreachable")
        return False
    return True


def _degradations() -> list[dict[str, str]]:
    """What works but should not be left so: a list, so that later checks join it."""
    from config.observability.metrics import heartbeat_age
    from config.observability.metrics import heartbeat_period

    reasons = []
    age, period = heartbeat_age(), heartbeat_period()
    if age > 2 * period:
        seen = "never on record" if age == float("inf") else f"last {age:.0f} s ago"
        reasons.append(
            {
                "code": "beat_silent",
                "detail": f"Beat's heartbeat is {seen}; expected every {period:.0f} s "
                "(is celery beat, or every worker, stopped?).",
            }
        )
    from engagement.safety.delivery import unsent

    try:
        stuck = unsent(now=timezone.now()).count()
    except Exception:  # the database check reports an unreachable database
        stuck = 0
    if stuck:
        reasons.append(
            {
                "code": "safety_alerts_unsent",
                "detail": f"{stuck} safety alert message(s) failed or were never sent; see "
                "Safety alert deliveries in the admin (docs/safety.md, 'Operators').",
            }
        )
    return reasons


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the broker both answer (else 503). `degraded` (still 200)
    when background work looks stopped, with the reasons (docs/operations.md)."""
    checks = {"database": _database_ready(), "broker": _broker_ready()}
    ready = all(checks.values())
    reasons = _degradations()
    status = "unavailable" if not ready else "degraded" if reasons else "ok"
    return JsonResponse(
        {"status": status, "checks": checks, "reasons": reasons},
        status=200 if ready else 503,
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL no route matches (`/sessions/0.5/`): under /api/ it answers in the API's
    one error shape (SPEC section 3), not Django's HTML page; elsewhere, Django's page. With
    DEBUG, Django skips this handler and JsonErrorMiddleware does the same."""
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return not_found_response(request)


class SafetyResourceSerializer(serializers.Serializer):
    """A service to contact in danger (SAFETY_RESOURCES): each key but `name` may be absent."""

    name = serializers.CharField()
    phone = serializers.CharField(required=False)
    url = serializers.CharField(required=False)
    text = serializers.CharField(required=False)


class MetaView(APIView):
    """What a client needs before signing in: server time, minimum versions, backfill window."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        operation_id="meta_retrieve",
        auth=[],
        responses=inline_serializer(
            "Meta",
            {
                "server_time": serializers.DateTimeField(),
                "min_client_version": inline_serializer(
                    "MinClientVersion",
                    {"ios": serializers.CharField(), "android": serializers.CharField()},
                ),
                "checkin_backfill_days": serializers.IntegerField(),
                "languages": serializers.ListField(
                    child=serializers.CharField(),
                    help_text="The languages the service speaks (a user's `language`, the "
                    "`Accept-Language` it honours), as codes: `en`, `es`.",
                ),
                "safety_resources": SafetyResourceSerializer(
                    many=True,
                    help_text="Services to show beside the safety question, in the request's "
                    "language (SAFETY_RESOURCES; docs/safety.md).",
                ),
                "web_push_public_key": serializers.CharField(
                    allow_null=True,
                    help_text="The VAPID public key browsers subscribe with; null when Web "
                    "Push is not configured.",
                ),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        now = utc_timestamp(timezone.now())
        return Response(
            {
                "server_time": now,
                "min_client_version": settings.MIN_CLIENT_VERSION,
                "checkin_backfill_days": settings.CHECKIN_BACKFILL_DAYS,
                "languages": [code for code, _name in settings.LANGUAGES],
                "safety_resources": resources_for(
                    settings.SAFETY_RESOURCES, translation.get_language() or "en"
                ),
                "web_push_public_key": settings.WEBPUSH_VAPID_PUBLIC_KEY or None,
            }
        )
