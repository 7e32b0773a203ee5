"""Project middleware: request ids for logs, and `Cache-Control: no-store` on every response."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest
from django.http import HttpResponse

from config.logging import request_id_var

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Take a sane X-Request-ID from the proxy or make one; echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


# The docs pages run Swagger UI and Redoc scripts; every other API answer is data only.
_PAGES_WITH_SCRIPTS = ("/api/v1/docs/", "/api/v1/redoc/")
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


class NoStoreMiddleware:
    """Health data must not sit in shared or device caches (SPEC section 3); API answers
    also get a Content-Security-Policy that lets nothing run if a browser renders one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        if request.path.startswith("/api/") and not request.path.startswith(_PAGES_WITH_SCRIPTS):
            response.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
        return response
