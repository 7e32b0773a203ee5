"""Throttles for sign-in, registration, verification, recovery and export (SPEC section 3).

DRF's SimpleRateThrottle reads, appends and writes its history in three cache calls, so
concurrent requests can all read the same count and all pass. These throttles count with
`cache.add` + `cache.incr` instead, which are atomic on Redis and on the in-process cache: of N
simultaneous attempts, at most the rate's number pass. Windows are fixed (aligned to the rate's
period), which is simple and bounded: at worst twice the rate straddling a window boundary.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.models import normalize_email

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/hour' → (10, 3600)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


class CountingThrottle(BaseThrottle):
    """A fixed-window counter per (scope, identity); the rate comes from settings at call time."""

    scope = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    def identity(self, request: Request, view: Any) -> str | None:
        """What the throttle counts by; None lets the request through (nothing to count)."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.identity(request, view)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if ident is None or not isinstance(rate, str):
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        # Retry-After is whole seconds, and a zero would drop the header altogether.
        return None if self._wait is None else max(1, math.ceil(self._wait))


class AuthIPThrottle(CountingThrottle):
    """Sign-in, registration, verification and recovery attempts per client address."""

    scope = "auth_ip"

    def identity(self, request: Request, view: Any) -> str | None:
        return self.get_ident(request)


class AuthEmailThrottle(CountingThrottle):
    """The same attempts per email address in the body, keyed on a hash of the normalised
    address so that the cache never holds addresses."""

    scope = "auth_email"

    def identity(self, request: Request, view: Any) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        return hashlib.sha256(normalize_email(email).encode()).hexdigest()


class ExportThrottle(CountingThrottle):
    """Exports per user: each one reads everything the user has."""

    scope = "export"

    def identity(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None
