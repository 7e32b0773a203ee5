"""Sentry: an event captured by a local server holds no personal data.

A tiny HTTP server on 127.0.0.1 stands in for Sentry; SENTRY_DSN points at it, and the
Django integration reports real requests that raise while carrying an email, a password, a
JWT, a session cookie, a query-string token and a check-in note."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from typing import cast
from unittest import mock

import pytest
from django.db import IntegrityError

from accounts.authentication import issue_tokens
from accounts.models import User
from config.observability import sentry
from tests.conftest import World

pytestmark = pytest.mark.django_db

EMAIL = "sentry.victim@example.org"
PASSWORD = "correct-horse-battery-42"
NOTE = "He shouted at me again on Sunday night"
QUERY_TOKEN = "resettokenfromquerystring123"
SESSION = "sessioncookievalue987654"


class Capture:
    """What the fake Sentry received: every envelope, decompressed, as text."""

    def __init__(self) -> None:
        self.envelopes: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def events(self) -> list[dict[str, Any]]:
        found = []
        for envelope in self.envelopes:
            lines = envelope.splitlines()
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found


@pytest.fixture
def capture() -> Iterator[tuple[Capture, str]]:
    box = Capture()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            encoding = self.headers.get("Content-Encoding", "")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding == "br":
                import brotli

                body = brotli.decompress(body)
            with box.lock:
                box.envelopes.append(body.decode())
                box.headers.append(dict(self.headers))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/1"
    try:
        yield box, dsn
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sentry_on(capture: tuple[Capture, str]) -> Iterator[Callable[[], Capture]]:
    """Sentry started as the settings start it (SENTRY_DSN set); `flush()` returns the box."""
    import sentry_sdk

    box, dsn = capture
    sentry.init_sentry(dsn, environment="test")

    def flush() -> Capture:
        sentry_sdk.get_client().flush(timeout=5)
        return box

    try:
        yield flush
    finally:
        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.get_global_scope().set_client(None)


class Answer:
    def __init__(self) -> None:
        self.status_code = 0


def through_wsgi(method: str, path: str, body: dict[str, Any], **headers: Any) -> Answer:
    """The request through Django's WSGI handler, as gunicorn calls it (where the Sentry
    integration hooks in), not through the test client's handler."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections
    from django.test import RequestFactory

    environ = (
        RequestFactory()
        .generic(method, path, json.dumps(body), content_type="application/json", **headers)
        .environ
    )
    answer = Answer()

    def start_response(status: str, response_headers: list[Any], *args: Any) -> None:
        answer.status_code = int(status.split()[0])

    # As the test client does: the test's transaction keeps its connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        b"".join(WSGIHandler()(environ, cast(Any, start_response)))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return answer


def assert_nothing_personal(box: Capture, *also: str) -> None:
    text = "\n".join(box.envelopes)
    assert box.events(), "no event reached the capture server"
    for secret in (EMAIL, PASSWORD, NOTE, QUERY_TOKEN, SESSION, *also):
        assert secret not in text, f"{secret!r} left in a Sentry event"
        assert secret.lower() not in text.lower()
    assert "sentry.victim" not in text
    for event in box.events():
        assert "user" not in event
        request = event.get("request", {})
        assert "data" not in request, "a request body left"
        assert "cookies" not in request
        headers = {name.lower() for name in request.get("headers", {})}
        assert "authorization" not in headers
        assert "cookie" not in headers
        for frame in _frames(event):
            assert "vars" not in frame


def _frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        frame
        for value in event.get("exception", {}).get("values", [])
        for frame in (value.get("stacktrace") or {}).get("frames", [])
    ]


def test_a_server_error_during_sign_in_reports_no_email_password_or_token(
    sentry_on: Callable[[], Capture],
) -> None:
    user = User.objects.create_user(email=EMAIL, password=PASSWORD, display_name="V")
    jwt = issue_tokens(user)["access"]
    failure = RuntimeError(
        f"sign-in failed for {EMAIL}: password={PASSWORD} Authorization: Bearer {jwt}"
    )
    with mock.patch("accounts.api.views.TokenObtainView.post", side_effect=failure):
        response = through_wsgi(
            "POST",
            f"/api/v1/auth/token/?token={QUERY_TOKEN}",
            {"email": EMAIL, "password": PASSWORD},
            HTTP_AUTHORIZATION=f"Bearer {jwt}",
            HTTP_COOKIE=f"sessionid={SESSION}",
        )
    assert response.status_code == 500
    box = sentry_on()
    assert_nothing_personal(box, jwt)
    (event,) = box.events()
    # What an operator needs is still there: the exception's type, where, which request.
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["request"]["url"].endswith("/api/v1/auth/token/")
    assert event["request"]["method"] == "POST"
    assert _frames(event)


def test_a_database_error_quoting_a_check_in_note_reports_no_note(
    sentry_on: Callable[[], Capture], world: World
) -> None:
    jwt = issue_tokens(world.partner)["access"]
    # PostgreSQL quotes the failing row's values in its error (a CHECK or NOT NULL violation).
    failure = IntegrityError(
        'new row for relation "engagement_checkin" violates check constraint "x"\n'
        f"DETAIL:  Failing row contains (1, {NOTE}, 3, {world.partner.email})."
    )
    with mock.patch("engagement.api.checkins.checkin_upsert", side_effect=failure):
        response = through_wsgi(
            "PUT",
            f"/api/v1/checkins/{date.today()}/",
            {"couple": str(world.couple.pk), "visibility": "private", "mood": 3, "note": NOTE},
            HTTP_AUTHORIZATION=f"Bearer {jwt}",
        )
    assert response.status_code == 500
    box = sentry_on()
    assert_nothing_personal(box, jwt, world.partner.email, str(world.partner.pk))
    assert "Failing row contains" in box.envelopes[0]  # the kind of error is still said


def test_an_error_log_line_reports_no_email_or_token(sentry_on: Callable[[], Capture]) -> None:
    logging.getLogger("accounts").info("sending to %s with token=%s", EMAIL, QUERY_TOKEN)
    logging.getLogger("accounts").error(
        "could not mail %s (note: %s, refresh=%s)", EMAIL, NOTE, QUERY_TOKEN
    )
    box = sentry_on()
    # The note arrived as a log argument: nothing tells it from other text but its name in
    # the format string, so the arguments of a log call never leave.
    assert_nothing_personal(box)


def test_without_a_dsn_nothing_is_started() -> None:
    import sentry_sdk
    from django.conf import settings

    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()
