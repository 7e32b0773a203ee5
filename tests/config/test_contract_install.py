"""Runtime and development dependencies are locked apart: the image and `make run` install no
test or lint tool, and both locks pin the same versions (Makefile `lock`)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

REPO = Path(settings.BASE_DIR)
DEV_TOOLS = {"pytest", "pytest-django", "ruff", "mypy", "schemathesis", "playwright", "hypothesis"}


def _pins(lock: str) -> dict[str, str]:
    text = (REPO / lock).read_text()
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", text, flags=re.MULTILINE))


def test_the_runtime_lock_holds_no_development_tool() -> None:
    runtime = _pins("requirements.lock")
    assert {"django", "gunicorn", "sentry-sdk", "django-prometheus"} <= set(runtime)
    assert DEV_TOOLS.isdisjoint(runtime)


def test_the_development_lock_pins_the_runtime_versions_and_the_tools() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert set(dev) >= DEV_TOOLS


def test_every_pin_carries_a_hash() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        blocks = re.split(r"\n(?=[a-z0-9])", (REPO / lock).read_text().split("\n", 2)[2])
        assert all("--hash=sha256:" in block for block in blocks if "==" in block), lock


def test_the_image_and_make_run_install_the_runtime_lock_only() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "-r requirements.lock" in dockerfile
    assert "requirements-dev.lock" not in dockerfile.split("\n", 2)[2]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^run: install$", makefile, flags=re.MULTILINE)
    assert re.search(r"^test: install-dev ", makefile, flags=re.MULTILINE)
