"""How the API turns exceptions into answers: drf-standardized-errors' shape, never a 500 for
something a client can send."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler

from config.api.parsers import RequestTooLarge


class ExceptionHandler(StandardizedExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        # Django refuses an oversized body before any parser runs when something has read the
        # body first (DRF 3.18 does): the client's doing, so 413, not 500 (SPEC section 3).
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        return super().convert_known_exceptions(exc)
