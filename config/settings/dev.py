"""Settings for `make run` and local work: embedded defaults, nothing to configure."""

from __future__ import annotations

from config.settings.base import *

DEBUG = env.bool("DEBUG", default=True)

# The embedded defaults live under var/: make sure its folders exist.
for _folder in (VAR_DIR, VAR_DIR / "static", VAR_DIR / "mail", VAR_DIR / "broker" / "queue"):
    _folder.mkdir(parents=True, exist_ok=True)
