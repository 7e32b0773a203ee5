"""Settings for `make run` and local work: embedded defaults, nothing to configure."""

from __future__ import annotations

from config.settings.base import *

DEBUG = env.bool("DEBUG", default=True)

# The embedded defaults live under var/: make sure its folders exist.
for _folder in (VAR_DIR, VAR_DIR / "static", VAR_DIR / "mail", VAR_DIR / "broker" / "queue"):
    _folder.mkdir(parents=True, exist_ok=True)

# --- Observability (issue 21): `make run` serves metrics with a token everyone knows ---
METRICS_TOKEN = env.str("METRICS_TOKEN", default="dev-metrics-token")
WORKER_METRICS_BIND = env.str("WORKER_METRICS_BIND", default="127.0.0.1:9808")
