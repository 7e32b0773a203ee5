"""Test settings for a worker process that must really send mail: EMAIL_URL is honoured (the
test settings otherwise keep every message in the process's memory, out of the test's reach)."""

from __future__ import annotations

from config.settings.test import *  # noqa: F403 - a settings module extends another
from config.settings.test import EMAIL_CONFIG

vars().update(EMAIL_CONFIG)
