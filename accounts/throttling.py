"""Throttles for sign-in, registration, verification, recovery and export (SPEC section 3).

Every counter lives in the cache (Redis in production), so it holds across web processes; none
lives in a process's memory. DRF's SimpleRateThrottle reads, appends and writes its history in
three cache calls, so concurrent requests can all read the same count and all pass. These
throttles count with `cache.add` + `cache.incr` instead, which are atomic on Redis and on the
in-process cache: of N simultaneous attempts, at most the rate's number pass. Windows are fixed
(aligned to the rate's period), which is simple and bounded: at worst twice the rate straddling a
window boundary.

Nobody can lock another person out (SPEC section 3, docs/security.md "Throttles and hostile
input"): sign-in counts failed attempts only (`FailedSignIns`), strictly per email and client
address and only loosely per email alone; registration, verification and each recovery flow count
in buckets of their own, so requests about someone's address never stop them signing in.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from abc import ABCMeta
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.models import normalize_email

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/hour' → (10, 3600)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def client_ip(request: HttpRequest | Request) -> str:
    """The client's address: the socket's, or the one `NUM_PROXIES` trusted proxies report.

    DRF's own rule (the N-th address from the right of `X-Forwarded-For`), so the general
    throttles and these agree; with `NUM_PROXIES=0` the header is ignored, since anyone can
    write it.
    """
    return str(BaseThrottle().get_ident(request))  # type: ignore[arg-type]


def _digest(value: str) -> str:
    """Keys hold a hash, never an address: the cache is no list of who tried to sign in."""
    return hashlib.sha256(value.encode()).hexdigest()


def email_key(email: str) -> str:
    return _digest(normalize_email(email))


def _rate(scope: str) -> tuple[int, int] | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
    return parse_rate(rate) if isinstance(rate, str) else None


def _incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def _decr(key: str) -> None:
    # A window that has ended since leaves nothing to give back.
    with contextlib.suppress(ValueError):
        cache.decr(key)


def _retry_after(seconds: float) -> int:
    # Retry-After is whole seconds, and a zero would drop the header altogether.
    return max(1, math.ceil(seconds))


@dataclass(frozen=True)
class _Window:
    """One fixed-window counter: its cache key, its limit, and when the window ends."""

    key: str
    limit: int
    period: int
    ends_at: float

    @classmethod
    def current(cls, scope: str, ident: str, now: float) -> _Window | None:
        rate = _rate(scope)
        if rate is None:
            return None
        limit, period = rate
        window = int(now // period)
        return cls(f"throttle:{scope}:{ident}:{window}", limit, period, (window + 1) * period)


class CountingThrottle(BaseThrottle, metaclass=ABCMeta):
    """A fixed-window counter per (scope, identity), counting every request it sees; the rate
    comes from settings at call time."""

    scope = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    @abstractmethod
    def identity(self, request: Request, view: Any) -> str | None:
        """What the throttle counts by; None lets the request through (nothing to count)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.identity(request, view)
        now = time.time()
        window = None if ident is None else _Window.current(self.scope, ident, now)
        if window is None:
            return True
        if _incr(window.key, window.period + 1) > window.limit:
            self._wait = window.ends_at - now
            return False
        return True

    def wait(self) -> float | None:
        return None if self._wait is None else _retry_after(self._wait)


def _bucket(view: Any) -> str:
    """Each view counts in a bucket of its own (`throttle_bucket`, else its class name): ten
    reset requests from an address never use up what registration or verification allow it."""
    return str(getattr(view, "throttle_bucket", None) or type(view).__name__)


class AuthIPThrottle(CountingThrottle):
    """Registration, verification and recovery requests per client address, per flow."""

    scope = "auth_ip"

    def identity(self, request: Request, view: Any) -> str | None:
        return f"{_bucket(view)}:{_digest(client_ip(request))}"


class AuthEmailThrottle(CountingThrottle):
    """The same requests per email address in the body, per flow (registration, reset and
    email change each in their own bucket, none of them shared with sign-in), keyed on a hash
    of the normalised address so that the cache never holds addresses."""

    scope = "auth_email"

    def identity(self, request: Request, view: Any) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        return f"{_bucket(view)}:{email_key(email)}"


class ExportThrottle(CountingThrottle):
    """Exports per user: each one reads everything the user has."""

    scope = "export"

    def identity(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None


class FailedSignIns:
    """Failed sign-ins, counted per (email, client address) strictly, per address across
    emails, and per email alone only loosely (SPEC section 3). Shared by the API's sign-in
    and the admin's login form, so neither is a way around the other.

    Only failures count, yet concurrent guesses cannot slip through together: each attempt
    takes a place in every counter before the password is checked (`reserve`), and a
    successful sign-in gives its places back (`forgive`). An attempt refused by one counter
    takes no place in the others: a guesser who hit their own (email, address) limit cannot go
    on filling the email's loose counter and lock its owner out from their own address.
    """

    SCOPES = ("signin_email_ip", "signin_ip", "signin_email")

    def __init__(self, *, email: str, ip: str) -> None:
        now = time.time()
        idents = {
            "signin_email_ip": f"{email_key(email)}:{_digest(ip)}",
            "signin_ip": _digest(ip),
            "signin_email": email_key(email),
        }
        windows = (_Window.current(scope, idents[scope], now) for scope in self.SCOPES)
        self._windows = [window for window in windows if window is not None]
        self._held: list[str] = []

    def reserve(self) -> int | None:
        """Take a place in every counter; the seconds to wait if one is full (nothing taken)."""
        now = time.time()
        counts = cache.get_many([window.key for window in self._windows])
        full = [w for w in self._windows if int(counts.get(w.key, 0)) >= w.limit]
        if not full:
            taken = []
            for window in self._windows:
                taken.append(window.key)
                if _incr(window.key, window.period + 1) > window.limit:
                    full.append(window)  # a concurrent attempt took the last place first
                    break
            if not full:
                self._held = taken
                return None
            for key in taken:
                _decr(key)
        return _retry_after(max(window.ends_at for window in full) - now)

    def forgive(self) -> None:
        """The attempt succeeded: a successful sign-in never counts."""
        for key in self._held:
            _decr(key)
        self._held = []


# --- The general rates, in one round trip (issue 20) -----------------------------------------

# DRF's sliding log (SimpleRateThrottle: a list of request times per key, newest first; a
# request passes while fewer than the rate's number lie within its period, and only a request
# that passes is logged), for every key of a request in one script: one round trip to Redis
# where DRF's UserRateThrottle made two (a GET of the pickled list, a SET of it again).
#
# Optionally behind a gate (ARGV[2] > 0): KEYS[1] is first read and returned, and the logs are
# counted only when its value is one of the ARGV[2] values after it. Authentication reads the
# caller's cache entry this way (accounts/auth_cache.py): a request whose entry shows it will
# be let in is counted in the same round trip; any other is counted later, or not at all, as
# DRF would.
_SLIDING_LOG_LUA = """
local now = tonumber(ARGV[1])
local gates = tonumber(ARGV[2])
local out = {}
local first = 1
if gates > 0 then
    local value = redis.call('GET', KEYS[1])
    table.insert(out, value or '')
    local open = false
    for j = 1, gates do
        if value == ARGV[2 + j] then open = true end
    end
    if not open then return out end
    first = 2
end
local arg = 3 + gates
for i = first, #KEYS do
    local key = KEYS[i]
    local limit = tonumber(ARGV[arg])
    local duration = tonumber(ARGV[arg + 1])
    arg = arg + 2
    while true do
        local last = redis.call('LINDEX', key, -1)
        if not last or tonumber(last) > now - duration then break end
        redis.call('RPOP', key)
    end
    local count = redis.call('LLEN', key)
    local oldest = redis.call('LINDEX', key, -1)
    if count < limit then
        redis.call('LPUSH', key, ARGV[1])
        redis.call('EXPIRE', key, duration)
        table.insert(out, 1)
    else
        table.insert(out, 0)
    end
    table.insert(out, count)
    table.insert(out, oldest or '')
end
return out
"""

_script: Any = None

# For each check, (passed, requests in the window before this one, the oldest of them or 0.0).
LogResults = list[tuple[bool, int, float]]


def _run_script(
    client: Any,
    backend: Any,
    checks: list[tuple[str, int, int]],
    now: float,
    gate: tuple[str, list[bytes]] | None = None,
) -> tuple[bytes | None, LogResults | None]:
    """The gate's value (None without a gate, b"" when the key is absent) and the logs' results
    (None when the gate stayed shut)."""
    global _script  # one registered script per process
    if _script is None:
        _script = client.register_script(_SLIDING_LOG_LUA)
    keys = [backend.make_and_validate_key(key) for key, _, _ in checks]
    args: list[Any] = [repr(now), 0]
    if gate is not None:
        gate_key, accepted = gate
        keys.insert(0, backend.make_and_validate_key(gate_key))
        args = [repr(now), len(accepted), *accepted]
    for _, limit, seconds in checks:
        args += [limit, seconds]
    raw = _script(keys=keys, args=args, client=client)
    value = None
    if gate is not None:
        value, raw = raw[0], raw[1:]
        if not raw:
            return value, None
    out = []
    for i in range(len(checks)):
        passed, count, oldest = raw[3 * i : 3 * i + 3]
        out.append((bool(passed), int(count), float(oldest) if oldest else 0.0))
    return value, out


def _sliding_logs(checks: list[tuple[str, int, int]], now: float) -> LogResults:
    """For each (cache key, limit, seconds): (passed, requests in the window before this one,
    the oldest of them or 0.0). Logs this request in every key it passed."""
    from django.core.cache import caches

    backend = caches["default"]
    client = _redis_client_of(backend)
    if client is None:
        return [
            _sliding_log_in_cache(backend, key, limit, seconds, now)
            for key, limit, seconds in checks
        ]
    _, results = _run_script(client, backend, checks, now)
    assert results is not None
    return results


def _redis_client_of(backend: Any) -> Any:
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True)  # type: ignore[attr-defined]


def _sliding_log_in_cache(
    backend: Any, key: str, limit: int, seconds: int, now: float
) -> tuple[bool, int, float]:
    """DRF's own steps on a cache without scripts (the file cache of `make run`, tests)."""
    history = [t for t in backend.get(key, []) if t > now - seconds]
    count, oldest = len(history), (history[-1] if history else 0.0)
    if count >= limit:
        return False, count, oldest
    backend.set(key, [now, *history], seconds)
    return True, count, oldest


class RequestRateThrottle(BaseThrottle):
    """DRF's `UserRateThrottle` and `AnonRateThrottle` together, with their semantics, in one
    round trip: the default throttle of every view (settings DEFAULT_THROTTLE_CLASSES).

    For a signed-in caller that round trip is usually authentication's (`read_and_count`):
    the request arrives here already counted."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def _checks(self, request: Request) -> list[tuple[str, int, int]]:
        if request.user and request.user.is_authenticated:
            return _checks_of([("user", str(request.user.pk))])
        ident = str(self.get_ident(request))
        return _checks_of([("user", ident), ("anon", ident)])

    def allow_request(self, request: Request, view: Any) -> bool:
        checks = self._checks(request)
        if not checks:
            return True
        counted: _Counted | None = getattr(request, _COUNTED, None)
        if counted is not None and counted.checks == checks:
            now, results = counted.now, counted.results
        else:
            now = time.time()
            results = _sliding_logs(checks, now)
        refused = False
        waits = []
        for (_, limit, seconds), (passed, count, oldest) in zip(checks, results, strict=True):
            if not passed:
                refused = True
                # SimpleRateThrottle.wait(), on the log as this request found it.
                remaining = seconds - (now - oldest) if count else seconds
                available = limit - count + 1
                if available > 0:
                    waits.append(remaining / available)
        self._wait = max(waits) if waits else None
        return not refused

    def wait(self) -> float | None:
        return self._wait


def _checks_of(scopes: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    """(cache key, limit, seconds) of each (scope, identity) whose rate is set."""
    rates = api_settings.DEFAULT_THROTTLE_RATES
    checks: list[tuple[str, int, int]] = []
    for scope, ident in scopes:
        rate = rates.get(scope)
        if isinstance(rate, str):
            limit, seconds = parse_rate(rate)
            # Not DRF's key (`throttle_user_<id>`): there a process still running DRF's
            # throttle during a deploy keeps a pickled list, which is not a Redis list.
            checks.append((f"throttle:log:{scope}:{ident}", limit, seconds))
    return checks


# Where `read_and_count` leaves the count of a request for RequestRateThrottle.
_COUNTED = "_duet_request_rate_counted"


@dataclass(frozen=True)
class _Counted:
    checks: list[tuple[str, int, int]]
    now: float
    results: LogResults


NOT_READ = object()


def read_and_count(request: Request, user_id: str, key: str, admitting: list[Any]) -> Any:
    """The cache's value under `key` (None when absent) and, in the same round trip, the count
    of this request by the default throttle as user `user_id`, when that value is one of
    `admitting`: the values with which authentication lets the request in.

    DRF checks a view's permissions after authentication and its throttles after them, and
    counts only a request that got that far; so this counts only for a view that asks nothing
    but IsAuthenticated (which a signed-in caller passes) and throttles with nothing but
    RequestRateThrottle, and only a caller whose entry admits them. A request refused at
    authentication is counted by nobody, as before. NOT_READ when this cannot be done in one
    round trip (no Redis, another view): the caller reads the cache itself."""
    from django.core.cache import caches

    view = (getattr(request, "parser_context", None) or {}).get("view")
    backend = caches["default"]
    client = _redis_client_of(backend)
    if client is None or view is None or not _throttles_after_sign_in_only(view):
        return NOT_READ
    checks = _checks_of([("user", user_id)])
    if not checks:
        return NOT_READ
    serializer = backend._cache._serializer  # type: ignore[attr-defined]
    now = time.time()
    value, results = _run_script(
        client, backend, checks, now, gate=(key, [serializer.dumps(v) for v in admitting])
    )
    if results is not None:
        setattr(request, _COUNTED, _Counted(checks, now, results))
    return serializer.loads(value) if value else None


def _throttles_after_sign_in_only(view: Any) -> bool:
    """Whether, once the caller is signed in, the next thing the view does is count them with
    RequestRateThrottle alone (DRF's APIView.initial; IsAuthenticated alone). Read from the
    view's class, calling none of its methods: one that read `request.user` would come back
    here before the user is known."""
    # (Here, not above: DRF's views module imports this one for its default throttles.)
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.views import APIView

    kind = type(view)
    return (
        kind.initial is APIView.initial
        and kind.check_permissions is APIView.check_permissions
        and kind.get_permissions is APIView.get_permissions
        and kind.get_throttles is APIView.get_throttles
        and list(view.permission_classes) == [IsAuthenticated]
        and list(view.throttle_classes) == [RequestRateThrottle]
    )
