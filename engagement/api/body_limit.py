"""Bodies over the size limit answer 413 (SPEC section 3) on these viewsets, never 500.

DRF 3.18 hands its JSON parser `request.body`, which Django checks against
DATA_UPLOAD_MAX_MEMORY_SIZE first and refuses with RequestDataTooBig, so
`config.api.parsers.JSONParser` never sees an oversized body and the exception
handler turned the refusal into a 500. This belongs in the project's exception handler;
until it moves there, the viewsets of sessions, commitments and check-ins translate it.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from rest_framework.response import Response

from config.api.parsers import RequestTooLarge


class RequestBodyLimitMixin:
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestDataTooBig):
            exc = RequestTooLarge()
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response
