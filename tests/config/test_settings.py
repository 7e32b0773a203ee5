"""Production settings refuse to start without their secrets and pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.processes import manage

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": "s" * 20 + "-production-secret-key-for-tests-only-0123456789",
    "JWT_SIGNING_KEY": "j" * 20 + "-production-jwt-key-for-tests-only-0123456789",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "ALLOWED_HOSTS": "api.duet.example",
    "DATABASE_URL": "sqlite:////tmp/duet-prod-check.sqlite3",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PROD_ENV}
    return manage(*args, env={**clean, **env}, timeout=120)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "JWT_SIGNING_KEY", "REDIS_URL"])
def test_production_refuses_to_start_without_its_secrets(missing: str) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_production_refuses_a_jwt_key_equal_to_the_secret_key() -> None:
    result = _manage("check", env={**PROD_ENV, "JWT_SIGNING_KEY": PROD_ENV["SECRET_KEY"]})
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY must differ from SECRET_KEY" in result.stderr


def test_production_settings_pass_the_deployment_checklist() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_manage_py_works_with_nothing_set() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {*PROD_ENV, "EMAIL_URL"}}
    result = manage("check", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
