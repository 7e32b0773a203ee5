"""No log line carries a secret: tokens, bearer credentials and passwords are redacted."""

from __future__ import annotations

import json
import logging

import pytest

from config.logging import REDACTED
from config.logging import RedactingJsonFormatter
from config.logging import redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiYWJjIn0.c2lnbmF0dXJlLXBhcnQtaGVyZQ"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"refresh {JWT} presented twice", JWT),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("GET /api/v1/digests/unsubscribe/?token=s3cr3t-Value&x=1", "s3cr3t-Value"),
        ("kwargs={'token': 'raw-invite-token-123'}", "raw-invite-token-123"),
        ('{"password": "correct horse"}', "correct horse"),
        ("new_password=hunter2", "hunter2"),
    ],
)
def test_secrets_are_redacted_from_log_text(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_ordinary_text_is_left_alone() -> None:
    text = "Computed 500 reports for week 2026-11-16 in 3.2 s"
    assert redact(text) == text


def test_the_json_formatter_redacts_messages_arguments_and_tracebacks() -> None:
    formatter = RedactingJsonFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError(f"bad token={JWT}")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "duet", logging.ERROR, __file__, 1, "task args %s", (f"[{JWT!r}]",), sys.exc_info()
        )
    line = formatter.format(record)
    assert JWT not in line
    assert json.loads(line)["levelname"] == "ERROR"
