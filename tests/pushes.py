"""Pushes written to a temporary folder: the fixture the safety and reminder tests share (their
conftest.py files import it, so it applies to every test there) and how to read what landed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper


@pytest.fixture(autouse=True)
def push_folder(settings: SettingsWrapper, tmp_path: Path) -> Path:
    """With no transport configured, pushes land here as files (as under var/push/)."""
    folder = tmp_path / "push"
    settings.PUSH_FILE_PATH = str(folder)
    return folder


def written_pushes(folder: Path) -> list[dict[str, Any]]:
    if not folder.exists():
        return []
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
