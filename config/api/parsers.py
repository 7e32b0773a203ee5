"""JSON parsing that answers 413 for bodies over the documented limit and 400 for JSON nested
deeper than 32 levels (SPEC section 3)."""

from __future__ import annotations

import operator
import re
from io import BytesIO
from itertools import accumulate
from itertools import count
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ParseError
from rest_framework.exceptions import ValidationError

# SPEC section 3: deeper than this is 400. No body of the API needs more than a handful.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")


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
        # Python's json recurses once per level: ~1,000 levels would end in a RecursionError (a
        # 500), before sign-in. Measured on the text first, so no deep structure is ever built.
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if _nests_too_deep(body, encoding):
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted.")
        try:
            data = super().parse(BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
        # JSON may spell lone surrogates ("\ud800") that no text column or error message can
        # hold; refuse them here, naming the field, rather than fail later with a 500.
        path = _invalid_unicode_path(data)
        if path is not None:
            error: Any = ["Text must be valid Unicode."]
            for key in reversed(path):
                error = {key: error}
            raise ValidationError(error if path else {"non_field_errors": error})
        return data


def _nests_too_deep(body: bytes, encoding: str) -> bool:
    """Whether arrays and objects nest deeper than MAX_JSON_DEPTH, brackets inside strings left
    out. Linear and without a Python loop per character: each bracket becomes +1 or -1 and the
    running sum is the depth. A body that does not decode is left to the JSON parser."""
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False  # too few brackets to nest too deep: most bodies stop here
    outside_strings = _JSON_STRING.sub("", text).encode("utf-8", "ignore")
    # Opening brackets read 2 and closing ones 0, everything else is dropped; the depth after
    # the i-th bracket is the running sum minus i.
    steps = outside_strings.translate(_BRACKET_STEPS, _NOT_A_BRACKET)
    return max(map(operator.sub, accumulate(steps), count(1)), default=0) > MAX_JSON_DEPTH


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
