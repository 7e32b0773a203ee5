"""JSON parsing that answers 413 for bodies over the documented limit (SPEC section 3)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ValidationError


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the API accepts."
    default_code = "request_too_large"


class JSONParser(parsers.JSONParser):
    """DRF reads the raw stream, bypassing Django's own size check; enforce it here."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge()
        data = super().parse(BytesIO(body), media_type, parser_context)
        # JSON may spell lone surrogates ("\ud800") that no text column or error message can
        # hold; refuse them here, naming the field, rather than fail later with a 500.
        path = _invalid_unicode_path(data)
        if path is not None:
            error: Any = ["Text must be valid Unicode."]
            for key in reversed(path):
                error = {key: error}
            raise ValidationError(error if path else {"non_field_errors": error})
        return data


def _is_valid_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _invalid_unicode_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in the parsed body a string (or key) cannot be encoded, or None."""
    if isinstance(value, str):
        return None if _is_valid_text(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            if not _is_valid_text(key):
                return (*path, "non_field_errors")
            found = _invalid_unicode_path(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _invalid_unicode_path(item, (*path, str(index)))
            if found is not None:
                return found
    return None
