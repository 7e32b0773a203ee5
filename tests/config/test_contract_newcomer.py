"""The first hour: `make run`'s mail lands where README says, and the docs, Redoc and the admin
answer with DEBUG=false before anyone ran collectstatic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import UserFactory

REPO = Path(django_settings.BASE_DIR)

_SEND_WITH_DEV_SETTINGS = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
message = EmailMultiAlternatives("Your week", "Plain text", "a@duet.local", ["b@example.com"])
message.attach_alternative("<p>Your week</p>", "text/html")
get_connection(file_path=sys.argv[1]).send_messages([message])
print(json.dumps({"backend": settings.EMAIL_BACKEND, "path": settings.EMAIL_FILE_PATH}))
"""


def test_make_runs_mail_lands_in_var_mail_with_its_html_in_var_mail_html(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("EMAIL_URL", "DATABASE_URL", "REDIS_URL", "DEBUG")
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    result = subprocess.run(
        [sys.executable, "-c", _SEND_WITH_DEV_SETTINGS, str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    configured = json.loads(result.stdout.strip().splitlines()[-1])
    assert configured == {"backend": "config.mail.FileEmailBackend", "path": str(REPO / "var/mail")}
    (raw,) = tmp_path.glob("*.log")
    assert "Subject: Your week" in raw.read_text()
    (html,) = (tmp_path / "html").glob("*-bexamplecom-your-week-0.html")
    assert html.read_text() == "<p>Your week</p>"


@pytest.fixture
def fresh_clone_in_production(settings: Any, tmp_path: Path) -> None:
    """DEBUG=false with the production storage and an empty STATIC_ROOT: no collectstatic."""
    settings.DEBUG = False
    (tmp_path / "static").mkdir()
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "config.staticfiles.StaticFilesStorage"},
    }


def _assets(html: str) -> list[str]:
    return sorted(set(re.findall(r"""(/static/[^"'?\s]+)""", html)))


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_clone_in_production")
@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/", "/admin/login/"])
def test_docs_redoc_and_admin_answer_without_collectstatic(path: str) -> None:
    client = Client()
    response = client.get(path)
    assert response.status_code == 200
    assets = _assets(response.content.decode())
    assert assets, "the page links no static asset"
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        b"".join(served.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_clone_in_production")
def test_the_admin_index_answers_a_staff_member_without_collectstatic() -> None:
    client = Client()
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
