"""ETag / If-None-Match on detail GETs, so mobile clients revalidate cheaply."""

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


class ConditionalRetrieveMixin:
    """Adds a strong ETag computed from the caller's own representation (so two viewers with
    different views of one object never share a tag) and answers 304 on a match."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        if response.status_code != status.HTTP_200_OK:
            return response
        etag = _etag_for(response.data)
        response["ETag"] = etag
        if_none_match = request.headers.get("If-None-Match", "")
        if etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match == "*":
            not_modified = Response(status=status.HTTP_304_NOT_MODIFIED)
            not_modified["ETag"] = etag
            return not_modified
        return response
