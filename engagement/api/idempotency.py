"""`Idempotency-Key` on POSTs that create (SPEC section 3): a replay returns the first answer.

Records are scoped to (user, method, path, key) and kept 24 h. The in-flight marker is committed
first, so a concurrent duplicate sees it and gets 409; the view's writes and the stored answer
then commit together, so a crash leaves either both or neither. A marker whose request died
before committing anything is taken over after IN_FLIGHT_TIMEOUT.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from engagement.exceptions import IdempotencyKeyInFlight
from engagement.exceptions import IdempotencyKeyReused
from engagement.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
IN_FLIGHT_TIMEOUT = timedelta(minutes=2)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description=(
        f"Up to {MAX_KEY_LENGTH} printable characters. A retry with the same key and body "
        "answers the first answer and creates nothing; the same key with another body answers "
        "422, and while the first is still in flight 409."
    ),
)

ViewMethod = Callable[..., Response]


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _claim(request: Request, key: str, fingerprint: str) -> IdempotencyRecord | Response:
    """Insert the in-flight marker, or answer from an earlier request with the same key."""
    scope = {"user": request.user, "method": request.method, "path": request.path, "key": key}
    expired_before = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    IdempotencyRecord.objects.filter(**scope, created_at__lt=expired_before).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(**scope, request_fingerprint=fingerprint)
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(**scope).first()
    if existing is None:  # expired and purged between our two statements: just try once more
        return IdempotencyRecord.objects.create(**scope, request_fingerprint=fingerprint)
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing.response_status is None:
        if existing.created_at > timezone.now() - IN_FLIGHT_TIMEOUT:
            raise IdempotencyKeyInFlight()
        # The first request died without committing anything: take its place.
        IdempotencyRecord.objects.filter(pk=existing.pk, response_status__isnull=True).update(
            created_at=timezone.now()
        )
        return existing
    return Response(existing.response_body, status=existing.response_status)


def idempotent(
    replay_body: Callable[[Any], Any] | None = None,
) -> Callable[[ViewMethod], ViewMethod]:
    """Decorate a viewset method that creates (above `@action`, if any); `replay_body` redacts
    what a replay may return (an invitation replay answers `token: null`). The schema documents
    the header on the method."""

    def decorator(view_method: ViewMethod) -> ViewMethod:
        @functools.wraps(view_method)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None or not request.user.is_authenticated:
                return view_method(self, request, *args, **kwargs)
            if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
                raise ValidationError(
                    {HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} printable characters."]}
                )
            claimed = _claim(request, key, _fingerprint(request))
            if isinstance(claimed, Response):
                claimed["Idempotent-Replayed"] = "true"
                return claimed
            try:
                with transaction.atomic():
                    response = view_method(self, request, *args, **kwargs)
                    if status.is_success(response.status_code):
                        body = response.data
                        claimed.response_status = response.status_code
                        claimed.response_body = json.loads(
                            json.dumps(replay_body(body) if replay_body else body, default=str)
                        )
                        claimed.save(update_fields=["response_status", "response_body"])
                    else:
                        claimed.delete()
            except BaseException:
                # Nothing was written; let the client retry with the same key.
                IdempotencyRecord.objects.filter(pk=claimed.pk).delete()
                raise
            return response

        documented: ViewMethod = extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(wrapper)
        return documented

    return decorator


def purge_expired_idempotency_records() -> int:
    """Delete records older than the 24 h replay window; returns how many went."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
