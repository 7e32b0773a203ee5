"""Schemathesis' `st` command, with `ast.parse` made safe to call from its worker threads.

CPython 3.11's parser keeps its recursion depth in shared state, so two threads parsing at once
can fail with "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905).
Hypothesis parses source code to describe strategies, and Schemathesis runs them on several
worker threads; one lock around `ast.parse` turns that crash into a short wait.
"""

from __future__ import annotations

import ast
import sys
import threading
from typing import Any

_parse = ast.parse
_lock = threading.Lock()


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _lock:
        return _parse(*args, **kwargs)


if __name__ == "__main__":
    ast.parse = _parse_one_at_a_time
    from schemathesis.cli import schemathesis

    sys.argv[0] = "st"
    sys.exit(schemathesis())
