"""Production settings: refuse to start without secrets and Redis; pass `check --deploy`."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *

DEBUG = env.bool("DEBUG", default=False)

for _name in ("SECRET_KEY", "JWT_SIGNING_KEY", "REDIS_URL"):
    if not env.str(_name, default=""):
        raise ImproperlyConfigured(f"{_name} must be set in production.")

SECRET_KEY = env.str("SECRET_KEY")
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY")
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY
if len(SECRET_KEY) < 50 or len(JWT_SIGNING_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY and JWT_SIGNING_KEY must be at least 50 characters.")
if SECRET_KEY == JWT_SIGNING_KEY:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must differ from SECRET_KEY.")
if SECRET_KEY in JWT_SIGNING_KEY_FALLBACKS:
    raise ImproperlyConfigured("JWT_SIGNING_KEY_FALLBACKS must not hold SECRET_KEY.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

# --- Observability (issue 21) ---
# No default token: without METRICS_TOKEN, `/metrics` (and the worker's) refuse every scrape.
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters.")
# Prometheus scrapes over plain HTTP inside the deployment.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]
