"""Fixtures of the safety tests: pushes written to a temporary folder (tests/pushes.py)."""

from __future__ import annotations

from tests.pushes import push_folder

__all__ = ["push_folder"]
