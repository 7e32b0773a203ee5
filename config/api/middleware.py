"""HTTP conventions of every answer under /api/ (SPEC section 3) that no single view owns: the
JSON error shape for what Django answers before or around a view, no slash-appending redirects,
ETags with weak `If-None-Match`, and gzip above 1 KB."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseBase
from django.http import JsonResponse
from django.middleware.common import CommonMiddleware
from django.middleware.gzip import GZipMiddleware
from django.urls import is_valid_path
from django.utils.cache import get_conditional_response
from django.utils.translation import get_language
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from config.middleware import API_CONTENT_SECURITY_POLICY

API_PREFIX = "/api/"
# The one answer under /api/ that is a page for people: the one-click unsubscribe (SPEC section 3)
# answers HTML, its errors included; the docs pages are HTML when they work.
_HTML_PATHS = ("/api/v1/digests/unsubscribe/", "/api/v1/docs/", "/api/v1/redoc/")
# Token pairs and reset links travel in these bodies: never compressed (BREACH, docs/clients.md).
_UNCOMPRESSED_PATHS = ("/api/v1/auth/",)

_ERROR_KINDS: dict[int, tuple[str, object]] = {
    400: ("bad_request", gettext_lazy("The request could not be understood.")),
    403: ("permission_denied", exceptions.PermissionDenied.default_detail),
    404: ("not_found", exceptions.NotFound.default_detail),
    413: ("request_too_large", gettext_lazy("The request body is larger than the API accepts.")),
    500: ("error", exceptions.APIException.default_detail),
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, detail: str) -> JsonResponse:
    """One error in the API's one shape (drf-standardized-errors, SPEC section 3)."""
    kind = "server_error" if status >= 500 else "client_error"
    return JsonResponse(
        {"type": kind, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status
    )


def not_found_response(request: HttpRequest) -> JsonResponse:
    """404 for a path no route matches; says so when the path only lacks its trailing slash."""
    detail = str(exceptions.NotFound.default_detail)
    path = request.path_info
    if not path.endswith("/") and is_valid_path(f"{path}/", getattr(request, "urlconf", None)):
        detail = gettext("Not found. API paths end with a slash: %(path)s") % {
            "path": f"{request.path}/"
        }
    return error_response(404, "not_found", detail)


class ApiCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, without its slash-appending redirect under /api/: a redirect is
    no JSON, a client would replay a POST as a GET after it, and with DEBUG Django answers such
    a POST with a 500. The path answers a JSON 404 that names the right path instead."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if is_api(request):
            return False
        return bool(super().should_redirect_with_slash(request))


class JsonErrorMiddleware:
    """Every error under /api/ in the API's one shape, with DEBUG on or off: what Django itself
    answers (an unroutable path, a wrong host, an oversized body, an unhandled exception) is an
    HTML page; this answers the same status in JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_api(request)
            or request.path.startswith(_HTML_PATHS)
        ):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return _translated(response)
        if response.status_code == 404:
            replacement = not_found_response(request)
        elif response.status_code == 405:
            message = str(exceptions.MethodNotAllowed.default_detail)
            replacement = error_response(
                405, "method_not_allowed", message.format(method=request.method)
            )
        else:
            status = response.status_code
            code, detail = _ERROR_KINDS.get(status, _ERROR_KINDS[500 if status >= 500 else 400])
            replacement = error_response(status, code, str(detail))
        for header in ("Allow", "Retry-After", "Vary", "Content-Language"):
            if header in response:
                replacement[header] = response[header]
        # What Django answers around the views never met NoStoreMiddleware (SPEC section 3).
        replacement["Cache-Control"] = "no-store"
        replacement["Content-Security-Policy"] = API_CONTENT_SECURITY_POLICY
        return replacement


def _translated(response: HttpResponseBase) -> HttpResponseBase:
    """The error's `detail`s in the request's language (SPEC section 3); codes never change.

    Django's and DRF's own messages arrive translated already (lazy strings). The project's are
    looked up here by their English text in locale/, so that every `raise ...("...")` of the
    apps is translated in one place; a message that interpolates values must be marked with
    gettext where it is written."""
    if get_language() in (None, settings.LANGUAGE_CODE) or not isinstance(response, HttpResponse):
        return response
    try:
        body = json.loads(response.content)
        errors = body["errors"]
        for error in errors:
            error["detail"] = gettext(error["detail"])
    except (ValueError, KeyError, TypeError):
        return response
    response.content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    return response


def _body_etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def json_etag(data: Any) -> str:
    """A tag for data a view shapes itself (a representation minus a volatile field)."""
    return _body_etag(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode())


class ETagMiddleware:
    """`ETag` on every successful JSON read under /api/, and 304 for a matching `If-None-Match`
    compared weakly (`W/"…"` matches `"…"`, RFC 9110 section 13.1.2).

    A view may set its own tag; otherwise the tag hashes the rendered body, so it is exactly as
    private as the body the caller reads (SPEC section 1: an ETag never moves on what the caller
    cannot see) and a list's tag covers its page. Placed inside GZip, so the tag is that of the
    identity body; GZip weakens it when it compresses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD")
            or not is_api(request)
            or response.status_code != 200
            or response.streaming
            or not isinstance(response, HttpResponse)
        ):
            return response
        if "ETag" not in response:
            if not response.get("Content-Type", "").startswith("application/json"):
                return response
            response["ETag"] = _body_etag(response.content)
        conditional = get_conditional_response(request, etag=response["ETag"], response=response)
        if conditional is None:
            return response
        if conditional is not response:
            for header in ("Content-Language", "Vary"):
                if header in response:
                    conditional[header] = response[header]
        return conditional


class ApiGZipMiddleware(GZipMiddleware):
    """gzip for API bodies over 1 KB (SPEC section 3), nothing else.

    BREACH needs a secret and attacker-chosen text in one compressed body that a victim's browser
    fetches with ambient credentials. The API takes bearer tokens, never cookies, so a third-party
    page cannot make a signed-in request; the auth endpoints, whose bodies carry tokens, are
    left uncompressed all the same, and so are the admin's cookie-authenticated pages (only
    /api/ is compressed). Django also pads each gzip body with random bytes."""

    minimum_size = 1024

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not is_api(request) or request.path.startswith(_UNCOMPRESSED_PATHS):
            return response
        if not response.streaming and len(getattr(response, "content", b"")) < self.minimum_size:
            return response
        return super().process_response(request, response)
