"""Production settings refuse to start without their secrets and pass `check --deploy`."""

from __future__ import annotations

import os

import pytest

from tests.processes import PRODUCTION_ENV
from tests.processes import manage
from tests.processes import manage_in_production


@pytest.mark.parametrize("missing", ["SECRET_KEY", "JWT_SIGNING_KEY", "REDIS_URL"])
def test_production_refuses_to_start_without_its_secrets(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage_in_production("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_production_refuses_a_jwt_key_equal_to_the_secret_key() -> None:
    result = manage_in_production(
        "check", env={**PRODUCTION_ENV, "JWT_SIGNING_KEY": PRODUCTION_ENV["SECRET_KEY"]}
    )
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY must differ from SECRET_KEY" in result.stderr


def test_production_settings_pass_the_deployment_checklist() -> None:
    result = manage_in_production(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_manage_py_works_with_nothing_set() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION_ENV, "EMAIL_URL"}}
    result = manage("check", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
