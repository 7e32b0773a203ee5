"""Settings shared by every environment; every value comes from the environment (SPEC section 8)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from config.safety_resources import SafetyResourcesError
from config.safety_resources import parse_safety_resources

# Lets generic classes such as ModelAdmin[User] be subscripted at runtime, as the stubs type them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
JWT_SIGNING_KEY = env.str(
    "JWT_SIGNING_KEY", default="dev-insecure-jwt-signing-key-0123456789abcdef"
)
# Older signing keys still accepted for verifying access and refresh tokens while apps refresh
# (SPEC section 8); new tokens are signed with JWT_SIGNING_KEY only.
JWT_SIGNING_KEY_FALLBACKS = env.list("JWT_SIGNING_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
FRONTEND_URL = env.str("FRONTEND_URL", default=SITE_URL).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "corsheaders",
    # Its transports send the pushes; its own device tables stay empty (accounts.Device).
    "push_notifications",
    "accounts",
    "engagement",
]

# Under /api/ (config/api/middleware.py): gzip sees the final body, so it sits outside what
# writes bodies; JSON errors inside CORS and the locale, so they carry their headers; ETags inside
# gzip, so they hash the identity body.
MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.api.middleware.ApiGZipMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.api.middleware.JsonErrorMiddleware",
    "config.api.middleware.ApiCommonMiddleware",
    "config.api.middleware.ETagMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        # Django's, `{% load i18n %}` loading config/i18n_tags.py (issue 20).
        "BACKEND": "config.i18n_tags.DjangoTemplates",
        "NAME": "django",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite under var/ when DATABASE_URL is unset, so that manage.py works with nothing set.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'duet.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: compiling a plan took 10-45 ms, more than it saved on any query this app runs
    # (docs/benchmarks.md, "Profiling and optimisations").
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = f"{_pg_options.get('options', '')} -c jit=off".strip()
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL lets the web process, worker and beat of `make run` share one SQLite file.
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600

# Error details follow Accept-Language, answered with Content-Language (SPEC section 3); Django
# and DRF ship Spanish for their messages, locale/ holds the project's own.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve app static files straight from their packages when collectstatic has not run.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.staticfiles.StaticFilesStorage"},
}

# --- Redis: Celery broker and cache; unset means embedded defaults (SPEC section 6) ---
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "duet",
        }
    }
else:
    # File-based so that throttles hold across the web, worker and beat processes of `make run`.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Email ---
# Unset: files under var/mail/ (digests also write each HTML part under var/mail/html/), as
# README says. The path is set here, not through "filemail://" + an absolute path, whose leading
# slash django-environ drops (the mail landed in <repo>/<repo path>/var/mail/).
EMAIL_URL = env.str("EMAIL_URL", default="")
_FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_CONFIG = env.email_url("EMAIL_URL") if EMAIL_URL else {"EMAIL_BACKEND": _FILE_BACKEND}
if EMAIL_CONFIG["EMAIL_BACKEND"] == _FILE_BACKEND:
    # filemail:///abs/path names an absolute folder, filemail://var/mail one under the repo.
    _mail_path = urlparse(EMAIL_URL).netloc + urlparse(EMAIL_URL).path
    EMAIL_CONFIG["EMAIL_FILE_PATH"] = str(BASE_DIR / _mail_path if _mail_path else VAR_DIR / "mail")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Duet <no-reply@duet.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Product settings ---
CHECKIN_BACKFILL_DAYS = env.int("CHECKIN_BACKFILL_DAYS", default=14)
# How long after a session (or its attendance being recorded, whichever is later) a partner who
# attended may give their feedback on it (SPEC section 2, "Session feedback").
FEEDBACK_WINDOW_DAYS = env.int("FEEDBACK_WINDOW_DAYS", default=7)
REFRESH_REUSE_GRACE_SECONDS = env.int("REFRESH_REUSE_GRACE_SECONDS", default=60)
# How long a link to confirm an address (registration or email change) stays valid.
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=2 * 24 * 3600)
MIN_CLIENT_VERSION = {
    "ios": env.str("MIN_CLIENT_VERSION_IOS", default="1.0.0"),
    "android": env.str("MIN_CLIENT_VERSION_ANDROID", default="1.0.0"),
}
# Largest request body the API accepts (SPEC section 3: 413 beyond it).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=256 * 1024)
REPORTS_CHUNK_SIZE = env.int("REPORTS_CHUNK_SIZE", default=500)
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# --- Safety (SPEC sections 1, 6 and 8; docs/safety.md) ---
try:
    SAFETY_RESOURCES = parse_safety_resources(
        env.str("SAFETY_RESOURCES", default=""), languages=[code for code, _ in LANGUAGES]
    )
except SafetyResourcesError as _error:
    raise ImproperlyConfigured(str(_error)) from None
# Copied on a safety alert still unacknowledged 24 hours after it was raised; unset: no copy.
SAFETY_ESCALATION_EMAIL = env.str("SAFETY_ESCALATION_EMAIL", default="")
# Years that safety alerts and session records stay for the couple's therapists after a
# partner's erasure; 0 erases them with the rest (docs/privacy.md).
CLINICAL_RETENTION_YEARS = env.int("CLINICAL_RETENTION_YEARS", default=0)
if CLINICAL_RETENTION_YEARS < 0:
    raise ImproperlyConfigured("CLINICAL_RETENTION_YEARS must be 0 or more.")

# --- Proxies ---
# How many trusted proxies append to X-Forwarded-For; the client is the NUM_PROXIES-th address
# from the right (SPEC section 3). 0: the header is ignored and the socket address counts.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("NUM_PROXIES must be 0 or more.")
_proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_header:
    # Given as "HTTP_X_FORWARDED_PROTO,https".
    _name, _, _value = _proxy_header.partition(",")
    SECURE_PROXY_SSL_HEADER = (_name.strip(), (_value or "https").strip())

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# What the API reads and writes beyond the CORS-safelisted headers (SPEC section 3): a web app
# sends idempotency keys and revalidates, and reads tags, throttle waits and replays.
CORS_ALLOW_HEADERS = (
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-none-match",
)
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Retry-After",
    "Idempotent-Replayed",
    "X-Request-ID",
    "Content-Language",
)

# --- REST framework ---
THROTTLE_USER_RATE = env.str("THROTTLE_USER_RATE", default="600/min")
THROTTLE_ANON_RATE = env.str("THROTTLE_ANON_RATE", default="120/min")
# Sign-in and recovery stay strict whatever a load test sets above (accounts/throttling.py).
THROTTLE_AUTH_IP_RATE = env.str("THROTTLE_AUTH_IP_RATE", default="30/min")
THROTTLE_AUTH_EMAIL_RATE = env.str("THROTTLE_AUTH_EMAIL_RATE", default="10/hour")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["config.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    # DRF's UserRateThrottle and AnonRateThrottle, same keys and sliding log, in one Redis
    # round trip per request (accounts/throttling.py, issue 20).
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.RequestRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": THROTTLE_USER_RATE,
        "anon": THROTTLE_ANON_RATE,
        # Registration, verification and recovery, per client address and per address in the
        # body, each flow in its own bucket.
        "auth_ip": THROTTLE_AUTH_IP_RATE,
        "auth_email": THROTTLE_AUTH_EMAIL_RATE,
        # Failed sign-ins only (SPEC section 3): strictly per email and client address, per
        # client address, and per email alone only loosely: far more than one person can type
        # to lock another out, few enough to stop a guess spread over many addresses.
        "signin_email_ip": env.str("THROTTLE_SIGNIN_EMAIL_IP_RATE", default="10/hour"),
        "signin_ip": env.str("THROTTLE_SIGNIN_IP_RATE", default=THROTTLE_AUTH_IP_RATE),
        "signin_email": env.str("THROTTLE_SIGNIN_EMAIL_RATE", default="100/hour"),
        "invite_user": env.str("THROTTLE_INVITE_USER_RATE", default="30/hour"),
        "invite_email": env.str("THROTTLE_INVITE_EMAIL_RATE", default="5/day"),
        "export": env.str("THROTTLE_EXPORT_RATE", default="10/hour"),
    },
    # 0 means "no proxy: ignore X-Forwarded-For". DRF reads None as "trust the whole header",
    # which would let anyone pick the address every per-IP throttle counts by.
    "NUM_PROXIES": NUM_PROXIES,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "config.api.exceptions.ExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "409", "413", "415", "422", "429"],
    "ERROR_SCHEMAS": {
        "401": "config.api.schema.ErrorResponse401Serializer",
        "409": "config.api.schema.ErrorResponse409Serializer",
        "413": "config.api.schema.ErrorResponse413Serializer",
        "422": "config.api.schema.ErrorResponse422Serializer",
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=30),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    # Verifies with JWT_SIGNING_KEY_FALLBACKS too.
    "AUTH_TOKEN_CLASSES": ("accounts.authentication.AccessToken",),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Duet API",
    "DESCRIPTION": (
        "Couples therapy when one partner may be doing all the work. "
        "The comparison between partners is the therapist's; nothing private leaks."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
        for name in (
            "ValidationErrorEnum",
            "ClientErrorEnum",
            "ServerErrorEnum",
            "ErrorCode401Enum",
            "ErrorCode403Enum",
            "ErrorCode404Enum",
            "ErrorCode405Enum",
            "ErrorCode406Enum",
            "ErrorCode415Enum",
            "ErrorCode429Enum",
            "ErrorCode500Enum",
        )
    }
    | {
        # A report's balance and its shared balance share one enum each (SPEC 5.6).
        "BalanceEnum": "engagement.models.reports.WeeklyReport.Balance",
        "GapTrendEnum": "engagement.models.reports.WeeklyReport.GapTrend",
    }
    | {
        # Several resources have a `status`; name each set after its resource.
        "CoupleStatusEnum": "engagement.models.Couple.Status",
        "InvitationStatusEnum": "engagement.models.Invitation.Status",
        "SessionStatusEnum": "engagement.models.TherapySession.Status",
        "AttendanceStatusEnum": "engagement.models.Attendance.Status",
        "CommitmentStatusEnum": "engagement.models.Commitment.Status",
        "CommitmentVisibilityEnum": "engagement.models.Commitment.Visibility",
        "CheckInVisibilityEnum": "engagement.models.Visibility",
        "SessionKindEnum": "engagement.models.TherapySession.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "config.api.schema.postprocess_schema",
    ],
    "SERVERS": [{"url": SITE_URL, "description": "This server (SITE_URL)"}],
}

# --- Celery (SPEC section 6) ---
# No REDIS_URL: kombu's filesystem transport under var/, so `make run` needs no Redis.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {"visibility_timeout": 2 * 60 * 60}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        # kombu's default is ./control in the working directory, which a clone would commit.
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
)
if not REDIS_URL:
    # The embedded broker's folders exist from the start (a fresh clone has no var/ yet), so
    # the first send and the first look at a queue's depth find them.
    for _folder in ("queue", "processed", "control"):
        (VAR_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

# --- PUSH: check-in reminders to phones and browsers (SPEC sections 6 and 8) ---
# Each transport is on only when configured; with none (`make run`, tests) every push is written
# as a JSON file under PUSH_FILE_PATH instead (accounts/push.py, docs/reminders.md).
FCM_CREDENTIALS_FILE = env.str("FCM_CREDENTIALS_FILE", default="")
APNS_AUTH_KEY_PATH = env.str("APNS_AUTH_KEY_PATH", default="")
APNS_AUTH_KEY_ID = env.str("APNS_AUTH_KEY_ID", default="")
APNS_TEAM_ID = env.str("APNS_TEAM_ID", default="")
APNS_TOPIC = env.str("APNS_TOPIC", default="")  # the app's bundle id
APNS_USE_SANDBOX = env.bool("APNS_USE_SANDBOX", default=False)
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
WEBPUSH_VAPID_PUBLIC_KEY = env.str("WEBPUSH_VAPID_PUBLIC_KEY", default="")
WEBPUSH_SUBJECT = env.str("WEBPUSH_SUBJECT", default="mailto:no-reply@duet.local")
# The server POSTs to a subscription's endpoint: only hosts of the browsers' push services (a
# host or a parent domain), never an address a client chose (no request forgery from inside).
WEBPUSH_ENDPOINT_HOSTS = env.list(
    "WEBPUSH_ENDPOINT_HOSTS",
    default=[
        "fcm.googleapis.com",
        "android.googleapis.com",
        "updates.push.services.mozilla.com",
        "push.services.mozilla.com",
        "notify.windows.com",
        "push.apple.com",
    ],
)
PUSH_FILE_PATH = env.str("PUSH_FILE_PATH", default=str(VAR_DIR / "push"))
PUSH_TIMEOUT_SECONDS = env.int("PUSH_TIMEOUT_SECONDS", default=10)
PUSH_NOTIFICATIONS_SETTINGS: dict[str, object] = {
    "CONFIG": "push_notifications.conf.LegacyConfig",
    "APNS_AUTH_KEY_PATH": APNS_AUTH_KEY_PATH,
    "APNS_AUTH_KEY_ID": APNS_AUTH_KEY_ID,
    "APNS_TEAM_ID": APNS_TEAM_ID,
    "APNS_TOPIC": APNS_TOPIC or None,
    "APNS_USE_SANDBOX": APNS_USE_SANDBOX,
    "WP_PRIVATE_KEY": WEBPUSH_VAPID_PRIVATE_KEY or None,
    "WP_CLAIMS": {"sub": WEBPUSH_SUBJECT},
    "WP_ERROR_TIMEOUT": PUSH_TIMEOUT_SECONDS,
}
# --- end of PUSH ---

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "config.logging.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Request lines carry query strings (tokens): never log them at INFO.
        "django.server": {"level": "WARNING"},
        "celery": {"level": "INFO"},
    },
}

# --- Observability: metrics and error reports (issue 21; docs/operations.md, "Metrics") ---
# Kept in one block. Prometheus metrics: HTTP (middleware), database (engine wrappers) and
# cache (Redis wrapper) from django-prometheus, the domain's from config/observability.
INSTALLED_APPS += ["django_prometheus", "config.observability"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.observability.cache.CountedRedisCache"
# `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers 404 to all.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# host:port where a Celery worker's main process serves its pool's metrics (same token); unset,
# it serves none.
WORKER_METRICS_BIND = env.str("WORKER_METRICS_BIND", default="")
# One directory per process group (gunicorn, a Celery worker) for the multi-process counters;
# prometheus-client reads the variable itself. Made here so that every process finds it.
if env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
    Path(env.str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)

# Sentry, only when SENTRY_DSN is set: no personal data, the logs' redaction on every event.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.observability.sentry import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
# --- end of observability ---
