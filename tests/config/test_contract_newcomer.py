"""The first hour: `make run`'s mail lands where README says, and the docs, Redoc and the admin
answer with DEBUG=false before anyone ran collectstatic."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.test import TestCase

from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.factories import UserFactory

REPO = Path(django_settings.BASE_DIR)

_DEV_MAIL_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({"backend": settings.EMAIL_BACKEND, "path": settings.EMAIL_FILE_PATH}))
"""


def _dev_mail_settings(email_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("EMAIL_URL", "DATABASE_URL", "REDIS_URL", "DEBUG")
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    if email_url is not None:
        env["EMAIL_URL"] = email_url
    result = subprocess.run(
        [sys.executable, "-c", _DEV_MAIL_SETTINGS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    configured: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return configured


FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


def test_make_runs_mail_goes_to_var_mail_in_the_repo() -> None:
    assert _dev_mail_settings(None) == {"backend": FILE_BACKEND, "path": str(REPO / "var/mail")}


def test_a_filemail_url_keeps_its_absolute_path(tmp_path: Path) -> None:
    configured = _dev_mail_settings(f"filemail://{tmp_path}")
    assert configured == {"backend": FILE_BACKEND, "path": str(tmp_path)}


@pytest.mark.django_db
def test_digests_through_the_dev_mail_backend_land_as_files_with_their_html(
    settings: Any, tmp_path: Path
) -> None:
    _, partner, _, therapist = reported_couple()
    assert therapist is not None
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = str(tmp_path)
    with (
        time_machine.travel(local(NEXT_MONDAY, 8), tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        call_command("send_digests", stdout=io.StringIO())
    raw = "".join(path.read_text() for path in tmp_path.glob("*.log"))
    assert partner.email in raw
    pages = {path.name for path in (tmp_path / "html").glob("*.html")}
    assert f"{WEEK}-partner-{partner.pk}.html" in pages
    assert f"{WEEK}-therapist-{therapist.pk}.html" in pages


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
