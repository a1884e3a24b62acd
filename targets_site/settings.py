"""Settings for Targets, driven only by environment variables.

Each variable is read once here through ``targets_site.env`` (strict: a bad value stops the start
with a message naming it). App code reads ``settings.X`` and never ``os.environ``. An optional
``.env`` file beside ``manage.py`` is loaded first; real environment variables win over it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from dotenv import load_dotenv

from targets_site.env import (
    env_bool,
    env_ca_file,
    env_choice,
    env_int,
    env_list,
    env_match,
    env_mqtt_url,
    env_rates,
    env_str,
    parse_email_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

load_dotenv(BASE_DIR / ".env", override=False)

# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
            '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    # Debug only: a per-process key, so nothing insecure is ever baked into the code.
    SECRET_KEY = get_random_secret_key()

# API keys are stored as HMAC-SHA256(pepper, key). Set API_KEY_PEPPER to rotate the secret key
# without invalidating every API key; by default the pepper is derived from the secret key.
API_KEY_PEPPER = (
    env_str("API_KEY_PEPPER")
    or hmac.new(SECRET_KEY.encode(), b"targets api key pepper", hashlib.sha256).hexdigest()
)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0)

INSTALLED_APPS = [
    "targets_site.admin_apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "storages",
    "targets_site",
    "accounts",
    "items",
    "sensors",
    "games",
    "exports",
    "notifications",
]

MIDDLEWARE = [
    "targets_site.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "targets_site.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: Idempotency-Key replays for API POSTs (targets_site/idempotency.py).
    "targets_site.idempotency.IdempotencyMiddleware",
    # Last, as django-axes requires: turns an admin login lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "targets_site.urls"
WSGI_APPLICATION = "targets_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing with "database is locked" mid-way.
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL.")
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared throttling state when REDIS_URL is set) ----------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
CACHES = {
    "default": (
        {
            "BACKEND": "targets_site.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "targets",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Auth -----------------------------------------------------------------------------------

# Admin login is guarded against password guessing by django-axes: after AXES_FAILURE_LIMIT
# failed logins from one client address the admin login answers 429 for AXES_COOLOFF_TIME (a
# success resets the count). The API's token endpoint has the "login" throttle instead, so axes
# watches the admin site only. Note: Client.login() in tests needs ``request=`` (or force_login).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ONLY_ADMIN_SITE = True
# ONLY_ADMIN_SITE limits enforcement; this handler also limits the counting to the admin login.
AXES_HANDLER = "targets_site.auth.AdminOnlyAxesHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
# The same client address DRF's throttles use (honours NUM_PROXIES, ignores a forged header).
AXES_CLIENT_IP_CALLABLE = "targets_site.auth.client_ip"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18N, static, files --------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"

# Bodies larger than this are refused with 413 (a 10,000-reading batch is about 1 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EXPORTS_STORAGE = env_choice("EXPORTS_STORAGE", "local", ("local", "s3"))
EXPORTS_LOCAL_ROOT = VAR_DIR / "exports"
EXPORTS_S3_OPTIONS = {
    "bucket_name": env_str("EXPORTS_S3_BUCKET"),
    "endpoint_url": env_str("AWS_S3_ENDPOINT_URL"),
    "access_key": env_str("AWS_ACCESS_KEY_ID"),
    "secret_key": env_str("AWS_SECRET_ACCESS_KEY"),
    "region_name": env_str("AWS_S3_REGION_NAME"),
    # Any S3-compatible endpoint: path-style addressing works everywhere, virtual hosts do not.
    "addressing_style": "path",
    "signature_version": "s3v4",
    # Keys are never reused; an existing key must never be silently replaced.
    "file_overwrite": False,
    # Spool uploads to disk past 8 MB instead of holding whole exports in memory.
    "max_memory_size": 8 * 1024 * 1024,
    "querystring_expire": 300,
    "default_acl": None,
}
# /readyz is 503 while the local export directory's file system has less free space than this.
READYZ_MIN_FREE_MB = env_int("READYZ_MIN_FREE_MB", 100, minimum=0)
EXPORTS_S3_REQUIRED = {"bucket_name": "EXPORTS_S3_BUCKET"}
if EXPORTS_STORAGE == "s3":
    for _option, _variable in EXPORTS_S3_REQUIRED.items():
        if not EXPORTS_S3_OPTIONS[_option]:
            raise ImproperlyConfigured(f"{_variable} is required when EXPORTS_STORAGE=s3.")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
    "exports": (
        {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": EXPORTS_S3_OPTIONS}
        if EXPORTS_STORAGE == "s3"
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": EXPORTS_LOCAL_ROOT, "base_url": None},
        }
    ),
}

# --- Security (secure by default with debug off; each switch can be turned off) -------------

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
    SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
if NUM_PROXIES:
    # Behind a TLS-terminating proxy the scheme arrives in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# A CSRF refusal under /api/ answers the API's JSON error shape, not Django's HTML page.
CSRF_FAILURE_VIEW = "targets_site.views.csrf_failure"

# --- REST framework -------------------------------------------------------------------------

API_THROTTLE_RATES = env_rates(
    "API_THROTTLE_RATES",
    {
        "anon": "120/min",
        "user": "2000/min",
        "key": "2000/min",
        "login": "10/min",
        "register": "30/hour",
        "scores": "120/min",
        "readings": "600/min",
    },
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["targets_site.permissions.IsAuthenticatedOrReadOnly"],
    # JSON only: the one parser that enforces the size, UTF-8, NaN and NUL rules. Form bodies
    # are a 415 (they would bypass those rules and need a second, looser schema).
    "DEFAULT_PARSER_CLASSES": ["targets_site.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": (
        ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
        if DEBUG
        else ["rest_framework.renderers.JSONRenderer"]
    ),
    "DEFAULT_PAGINATION_CLASS": "targets_site.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "targets_site.throttling.AnonRateThrottle",
        "targets_site.throttling.UserRateThrottle",
        "targets_site.throttling.KeyRateThrottle",
        "targets_site.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": API_THROTTLE_RATES,
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "targets_site.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "targets_site.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": ["targets_site.permissions.AllowAny"],
    "TITLE": "Targets API",
    "DESCRIPTION": "Item catalogue, sensor readings and alerts, game scores and data exports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "targets_site.schema.add_error_responses",
    ],
}

# --- Email (notification channels of kind "email") -----------------------------------------

# EMAIL_URL: console:// (default: messages are printed), smtp://user:pass@host:25,
# smtp+tls://… (STARTTLS, 587), smtps://… (TLS, 465), locmem://; ?timeout=S.
_email = parse_email_url("EMAIL_URL", env_str("EMAIL_URL", "console://") or "console://")
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
EMAIL_TIMEOUT = _email.timeout
DEFAULT_FROM_EMAIL = SERVER_EMAIL = env_str("EMAIL_FROM", "targets@localhost") or ""
if "@" not in DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(f"EMAIL_FROM must be an email address, got {DEFAULT_FROM_EMAIL!r}.")

# Leaderboards count only replay-verified scores unless a request says otherwise.
LEADERBOARD_VERIFIED_ONLY_DEFAULT = env_bool("LEADERBOARD_VERIFIED_ONLY", True)

# --- Metrics (GET /metrics, Prometheus text; targets_site/metrics.py) ------------------------

METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
# Addresses (or networks) allowed to read /metrics, as the throttles see the client (NUM_PROXIES).
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
for _entry in METRICS_ALLOWED_IPS:
    try:
        ip_network(_entry, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_entry!r} is not an IP address or network."
        ) from None
# Set by gunicorn.conf.py: each worker writes its samples there and a scrape adds them all up.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if not PROMETHEUS_MULTIPROC_DIR:
    # prometheus_client switches to multiprocess mode when the variable merely exists, and an
    # empty one (from a .env line) would scatter its files into the working directory.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    # prometheus_client would fail later, on the first metric, with a bare FileNotFoundError.
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR} is not a directory "
        "(gunicorn.conf.py creates its own; for other processes make it first or leave it unset)."
    )
if METRICS_ENABLED:
    # First, so the latency it records covers every other middleware too.
    MIDDLEWARE.insert(0, "targets_site.metrics.MetricsMiddleware")

# --- MQTT ingest (manage.py ingest_mqtt) ------------------------------------------------------

MQTT_BROKER = env_mqtt_url("MQTT_URL", "mqtt://127.0.0.1:1883")
# The CAs that may sign an mqtts:// broker's certificate; unset: the system's trust store.
MQTT_CA_FILE = env_ca_file("MQTT_CA_FILE")
if MQTT_CA_FILE and not MQTT_BROKER["tls"]:
    raise ImproperlyConfigured(
        "MQTT_CA_FILE is only used over TLS: MQTT_URL must start with mqtts://."
    )
# The broker keeps the persistent session, and the readings queued in it, under this id: fixed
# for a worker (never random), and different for each worker of a shared subscription.
MQTT_CLIENT_ID = env_match(
    "MQTT_CLIENT_ID",
    "targets-ingest",
    r"[A-Za-z0-9_.:-]{1,64}",
    says="1-64 letters, digits, '_', '.', ':' or '-'",
)
MQTT_TOPIC_PREFIX = env_match(
    "MQTT_TOPIC_PREFIX",
    "targets",
    r"[^/#+\s\x00$][^/#+\s\x00]*(/[^/#+\s\x00]+)*",
    says="one or more topic levels without wildcards or spaces, e.g. 'targets' or 'site1/targets'",
)
MQTT_SHARED_GROUP = env_match(
    "MQTT_SHARED_GROUP", "", r"[A-Za-z0-9_-]{0,64}", says="empty (off) or a share group name"
)
MQTT_BATCH_SIZE = env_int("MQTT_BATCH_SIZE", 1000, minimum=1, maximum=30_000)
MQTT_BATCH_MS = env_int("MQTT_BATCH_MS", 100, minimum=1, maximum=60_000)
MQTT_SESSION_EXPIRY = env_int("MQTT_SESSION_EXPIRY", 7 * 24 * 3600, minimum=1, maximum=2**32 - 1)

# --- Logging --------------------------------------------------------------------------------

LOG_DIR = VAR_DIR / "log"
LOG_LEVEL = env_choice("DJANGO_LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "bad_host": {"()": "targets_site.logging.BadHostFilter", "interval": 60, "burst": 5},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "file": {
            "class": "targets_site.logging.MakedirsRotatingFileHandler",
            "filename": LOG_DIR / "targets.log",
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "plain",
            "delay": True,
        },
    },
    "root": {"handlers": ["console", "file"], "level": "WARNING"},
    "loggers": {
        "targets": {"handlers": ["console", "file"], "level": LOG_LEVEL, "propagate": False},
        # Exports run from cron, whose mail is what commands print: their one-line reasons.
        # The tracebacks behind them go to the file only.
        "targets.exports": {"handlers": ["file"], "level": LOG_LEVEL, "propagate": False},
        # Request lines come from our own middleware; Django's duplicate 4xx warnings are noise.
        "django.request": {"handlers": ["console", "file"], "level": "ERROR", "propagate": False},
        # An unknown Host is one WARNING line without traceback, at most 5 a minute per process.
        "django.security.DisallowedHost": {
            "handlers": ["console", "file"],
            "filters": ["bad_host"],
            "level": "WARNING",
            "propagate": False,
        },
    },
}
