"""Timestamps as the API writes them (SPEC section 3), for tests that compare against one."""

from __future__ import annotations

import datetime as dt


def api_timestamp(moment: dt.datetime) -> str:
    """`2026-11-23T12:00:03.000Z`: UTC, milliseconds, `Z`, always the same width."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
