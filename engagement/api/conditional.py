"""ETag / If-None-Match on detail reads and lists (SPEC section 3), so mobile clients revalidate
cheaply.

The tag is a hash of the caller's own representation: two readers with different views of one
object never share a tag, and a change only one of them can read moves only that reader's tag
(every timestamp in a representation is the reader's own: SPEC section 1).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response


def _etag_for(data: Any) -> str:
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): `W/"x"` matches `"x"`; `*` matches anything."""
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


def conditional(request: Request, response: Response) -> Response:
    """Tag a 200 answer, or answer 304 when the client already holds that representation."""
    if response.status_code != status.HTTP_200_OK:
        return response
    etag = _etag_for(response.data)
    response["ETag"] = etag
    if _matches(request.headers.get("If-None-Match", ""), etag):
        not_modified = Response(status=status.HTTP_304_NOT_MODIFIED)
        not_modified["ETag"] = etag
        return not_modified
    return response


class ConditionalRetrieveMixin:
    """Adds an ETag to detail reads and answers 304 on a match."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return conditional(request, super().retrieve(request, *args, **kwargs))  # type: ignore[misc]


class ConditionalListMixin:
    """Adds an ETag to each page of a list (its rows and cursors) and answers 304 on a match."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return conditional(request, super().list(request, *args, **kwargs))  # type: ignore[misc]
