"""How the API turns exceptions into answers: drf-standardized-errors' shape, never a 500 for
something a client can send."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from rest_framework import exceptions

from config.api.parsers import RequestTooLarge


class ExceptionHandler(StandardizedExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        # Django refuses an oversized body before any parser runs when something has read the
        # body first (DRF 3.18 does): the client's doing, so 413, not 500 (SPEC section 3).
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            return _plain_authentication_failure(exc)
        return super().convert_known_exceptions(exc)


def _plain_authentication_failure(
    exc: exceptions.AuthenticationFailed,
) -> exceptions.AuthenticationFailed:
    """simplejwt refuses a token with a dict (`detail`, `code`, `messages`), which the formatter
    would spread over several errors named `detail`, `code`, `messages.0.token_class`; one error
    with simplejwt's code keeps the API's one shape (SPEC section 3)."""
    detail = exc.detail
    assert isinstance(detail, dict)
    message = str(detail.get("detail", exceptions.AuthenticationFailed.default_detail))
    code = str(detail.get("code", exceptions.AuthenticationFailed.default_code))
    plain = exceptions.AuthenticationFailed(message, code=code)
    # DRF put the WWW-Authenticate challenge on the original exception.
    plain.auth_header = getattr(exc, "auth_header", None)  # type: ignore[attr-defined]
    return plain
