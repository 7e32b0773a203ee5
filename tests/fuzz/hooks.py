"""Schemathesis hooks and checks of `make fuzz`, loaded by `st` through SCHEMATHESIS_HOOKS.

What they add to Schemathesis' own generation and checks (docs/testing.md):

- **Objects out of reach.** `DUET_FUZZ_FOREIGN` names a JSON list of ids the pass's identity
  cannot see (objects of other couples, and of its own couple that are not its to read). About
  a third of the generated `{id}` path parameters take one of them, and the check
  `foreign_objects_answer_404` fails any answer to such a path that is a success, a 403, a 409
  or a 422: SPEC section 1 says 404, never 403, so ids cannot be probed.
- **Forged cursors.** On every list, a fifth of the generated queries carry a `cursor` that is
  well-formed (base64 of DRF's `o=`, `r=`, `p=` tokens) but was never issued: positions of the
  wrong type, negative or huge offsets, control characters. `not_a_server_error` fails a 500;
  SPEC section 3 asks a 400 `invalid_cursor`.
- **Deep nesting.** A fifth of the generated JSON bodies gain a key holding arrays nested 33 to
  200 levels deep; `deep_json_is_refused` fails a success (SPEC section 3: deeper than 32 levels
  is a 400), `not_a_server_error` a 500.
- **Every operation exercised.** `DUET_FUZZ_CALLS` names a file where the number of requests
  sent to each operation (`GET /api/v1/couples/`) is written when `st` exits; the runner fails
  the run if an operation of the schema got none.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st

FOREIGN_IDS: tuple[str, ...] = tuple(
    json.loads(Path(os.environ["DUET_FUZZ_FOREIGN"]).read_text())
    if os.environ.get("DUET_FUZZ_FOREIGN")
    else ()
)
_FOREIGN = frozenset(FOREIGN_IDS)
DEEP_KEY = "duet_fuzz_deep_nesting"
# Above SPEC's 32. Deeper bodies (1,000 levels, past Python's own parser) are
# tests/fuzz/test_regressions.py's: Schemathesis cannot copy a body past about 250 levels.
DEPTHS = (33, 64, 200)
# Well-formed and never issued: what a client can forge from a cursor it has seen.
FORGED_TOKENS = (
    "p=zz",
    "p=",
    "o=-1",
    "o=99999999999999999999999999",
    "o=1&r=1&p=9999-99-99",
    "r=maybe&p=2026-11-23T12:00:00Z",
    "p=2026-11-23T12:00:00Z%00",
    "p=" + "9" * 1000,  # longer, and gunicorn refuses the request line (414) before the app
    "o=1&o=2&p=a&p=b",
    "p=00000000-0000-0000-0000-000000000000",
    "p=%C3%A9%E2%80%AE",
    "x=1",
)
FORGED_CURSORS = tuple(base64.b64encode(token.encode()).decode() for token in FORGED_TOKENS)
# Form-encoded, not JSON (the one-click unsubscribe link).
NOT_JSON = {"/api/v1/digests/unsubscribe/"}

_calls: Counter[str] = Counter()
_lock = threading.Lock()


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    if not FOREIGN_IDS or not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    foreign = st.sampled_from(FOREIGN_IDS).map(lambda pk: {**path_parameters, "id": pk})
    return st.one_of(st.just(path_parameters), st.just(path_parameters), foreign)


@schemathesis.hook
def flatmap_query(context: Any, query: Any) -> Any:
    operation = context.operation
    if operation is None or "cursor" not in operation.query:
        return st.just(query)
    forged = st.sampled_from(FORGED_CURSORS).map(lambda cursor: {**(query or {}), "cursor": cursor})
    return st.one_of(*([st.just(query)] * 4), forged)


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    operation = context.operation
    if not isinstance(body, dict) or operation is None or operation.path in NOT_JSON:
        return st.just(body)
    deep = st.sampled_from(DEPTHS).map(lambda depth: {**body, DEEP_KEY: _nested(depth)})
    return st.one_of(*([st.just(body)] * 4), deep)


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    with _lock:
        _calls[_label(case.operation)] += 1


@schemathesis.check
def foreign_objects_answer_404(ctx: Any, response: Any, case: Any) -> bool | None:
    """An object out of the caller's reach, named in the path, answers 404 (SPEC section 1)."""
    pk = (case.path_parameters or {}).get("id")
    if pk is None or str(pk) not in _FOREIGN:
        return None
    status = response.status_code
    if 200 <= status < 300 or status in (403, 409, 422):
        raise AssertionError(
            f"{_label(case.operation)} with the id of an object out of the caller's reach "
            f"answered {status}, not 404: the id can be probed"
        )
    return True


@schemathesis.check
def deep_json_is_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """JSON nested deeper than 32 levels is refused (SPEC section 3), never taken."""
    if not isinstance(case.body, dict) or DEEP_KEY not in case.body:
        return None
    if 200 <= response.status_code < 300:
        raise AssertionError(
            f"{_label(case.operation)} took a body nested deeper than 32 levels "
            f"({response.status_code}); SPEC section 3 asks a 400"
        )
    return True


def _write_calls() -> None:
    path = os.environ.get("DUET_FUZZ_CALLS")
    if path:
        with _lock:
            Path(path).write_text(json.dumps(dict(_calls), indent=1, sort_keys=True))


atexit.register(_write_calls)
