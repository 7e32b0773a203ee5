"""Logging helpers: every line carries its request id, and no line carries a secret."""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[redacted]"
# Whatever the source (a request line, a task's arguments, an exception message), these never
# reach a log: JWTs, bearer credentials, and values of token/password/secret/key fields.
_NAMES = r"(?:token|refresh|access|password|new_password|old_password|secret|signature)"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_QUOTED = re.compile(r"""(?i)(["']\w*""" + _NAMES + r"""["']\s*:\s*["'])([^"']*)""")
_BARE = re.compile(r"""(?i)(\b\w*""" + _NAMES + r"""\s*=\s*)([^"'&\s,;}]+)""")


def redact(text: str) -> str:
    """Replace anything that looks like a credential with a marker."""
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _QUOTED.sub(lambda m: m.group(1) + REDACTED, text)
    return _BARE.sub(lambda m: m.group(1) + REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Attach the current request id to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines with every credential-looking value redacted from the finished line."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

    def formatException(self, ei: Any) -> str:
        return redact(str(super().formatException(ei)))
