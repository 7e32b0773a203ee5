"""The benchmarks' SMTP sinks (bench/digests.py): aiosmtpd's `Sink`, which takes every message
and keeps none, and the same offering PIPELINING (RFC 2920), as production relays do."""

from __future__ import annotations

from typing import Any

from aiosmtpd.handlers import Sink


def offering_pipelining(session: Any, hostname: str, responses: list[str]) -> list[str]:
    """An aiosmtpd `handle_EHLO` hook's answer that also offers PIPELINING (RFC 2920), as
    production relays do (also the tests' servers', tests/smtp.py)."""
    session.host_name = hostname
    return [*responses[:-1], "250-PIPELINING", responses[-1]]


class PipeliningSink(Sink):
    """aiosmtpd reads its commands a line at a time from one buffer, so commands that arrive
    together are answered in order, as RFC 2920 asks; it only never says so in its EHLO."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        return offering_pipelining(session, hostname, responses)
