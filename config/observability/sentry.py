"""Error reports to Sentry, with nothing personal in them.

`send_default_pii` is off (no user, IP address, cookies or auth headers), request bodies and
local variables are never captured, and every event passes through `scrub`: the logs'
redaction (config/logging.py: JWTs, bearer credentials, token/password/secret values) plus
email addresses, and the values of fields whose names say they hold a secret or a person's
words (notes, text, bodies) are replaced whatever they hold.
"""

from __future__ import annotations

import re
import warnings
from typing import Any
from typing import Final

from config.logging import REDACTED
from config.logging import redact

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Field names whose values never leave, wherever they appear in an event.
SECRET_KEYS = re.compile(
    r"(?i)(?:^|[_.-])(?:token|access|refresh|password|secret|signature|authorization|cookie|"
    r"sessionid|csrftoken|api_?key|email|note|notes|text|body|content|answers?|comment|data|"
    r"args|kwargs)(?:$|[_.-])"
)
# The SDK's own switches for the module's first promise: no user, IP address, cookies or auth
# headers (`send_default_pii`), no local variables, no request bodies.
NEVER_CAPTURED: Final = {
    "send_default_pii": False,
    "include_local_variables": False,
    "max_request_body_size": "never",
}
# Parts of an event that are replaced whole: what the request carried and who sent it.
_REQUEST_DROPPED = ("data", "cookies", "env")


# PostgreSQL quotes the values of the row or key that broke a constraint in its errors.
_FAILING_ROW = re.compile(r"(Failing row contains )\((?:[^()]|\([^()]*\))*\)")
_KEY_VALUE = re.compile(r"(Key \([^)]*\)=)\((?:[^()]|\([^()]*\))*\)")


def scrub_text(text: str) -> str:
    text = _FAILING_ROW.sub(lambda m: m.group(1) + f"({REDACTED})", text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + f"({REDACTED})", text)
    return EMAIL.sub(REDACTED, redact(text))


def _without_arguments(template: Any, args: Any) -> str:
    """A log line's text with each argument replaced: the template is code, the arguments
    are data (an address, a note), and nothing tells a note from other text."""
    count = len(args) if isinstance(args, list | tuple) else 1
    try:
        return str(template) % ((REDACTED,) * count)
    except (TypeError, ValueError):
        return REDACTED


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and SECRET_KEYS.search(key) and not _is_structure(key)
            else _scrub(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, depth + 1) for item in value]
    return value


# Keys of Sentry's own event structure that match a secret-looking name but hold structure
# (scrubbed inside, not replaced whole).
_STRUCTURE_KEYS = {"contexts", "data", "message", "logentry"}


def _is_structure(key: str) -> bool:
    return key in _STRUCTURE_KEYS


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """`before_send` and `before_send_transaction`: the event without personal data."""
    request = event.get("request")
    if isinstance(request, dict):
        for name in _REQUEST_DROPPED:
            request.pop(name, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value
                for name, value in headers.items()
                if name.lower() not in ("authorization", "cookie", "x-csrftoken", "x-api-key")
            }
        # Query strings carry unsubscribe and reset tokens.
        if request.get("query_string"):
            request["query_string"] = REDACTED
    event.pop("user", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict) and logentry.get("params"):
        logentry["formatted"] = _without_arguments(logentry.get("message"), logentry["params"])
        logentry["params"] = [REDACTED for _ in logentry["params"]]
    return dict(_scrub(event))


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    record = (hint or {}).get("log_record")
    if record is not None and record.args:
        crumb["message"] = _without_arguments(record.msg, record.args)
    return dict(_scrub(crumb))


def init_sentry(
    dsn: str,
    *,
    environment: str = "production",
    release: str | None = None,
    traces_sample_rate: float = 0.0,
) -> None:
    """Start the SDK with the Django and Celery integrations (settings call this when
    SENTRY_DSN is set)."""
    import sentry_sdk

    with warnings.catch_warnings():
        # sentry-sdk 2.7x prefers `data_collection`; `send_default_pii` still works in every
        # 2.x and says plainly what it means.
        warnings.filterwarnings("ignore", ".*send_default_pii.*", DeprecationWarning)
        _init(sentry_sdk.init, dsn, environment, release, traces_sample_rate)


def _init(
    init: Any, dsn: str, environment: str, release: str | None, traces_sample_rate: float
) -> None:
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        **NEVER_CAPTURED,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,
        before_send_transaction=scrub,
        before_breadcrumb=scrub_breadcrumb,
    )
