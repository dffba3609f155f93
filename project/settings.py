"""Settings for Booking Backoffice, read from the environment (12-factor).

Every variable is documented in the README's "Configuration" section. The
defaults are safe for development only: with DEBUG off, SECRET_KEY must be set.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project import mailers
from project.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The public base URL, used in emails' links (no trailing slash).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Number of reverse proxies in front of the app whose X-Forwarded-For entries are
# trusted. 0 (the default) means the client IP is REMOTE_ADDR, never a header.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    # Django's admin, whose site adds the client cancellations to its home page.
    "booking.apps.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "import_export",
    "anymail",
    "django_tasks_db",
    "axes",
    "booking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and the public page's static files under gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A database timeout or an unreachable cache: 503 (JSON under /api/), not a 500.
    "booking.middleware.ServiceUnavailableMiddleware",
    # Admin login throttling (django-axes): last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"

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

WSGI_APPLICATION = "project.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the task worker read while the other writes;
    # IMMEDIATE makes a write transaction take the lock up front, so concurrent
    # writers queue instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# PostgreSQL: server-side parameters and prepared statements. A query run
# DATABASE_PREPARE_THRESHOLD times on a (persistent) connection is planned once,
# not per request, which was a third of a public lookup's database time.
# 0 turns both off (e.g. behind a PgBouncer that cannot keep prepared statements).
PREPARE_THRESHOLD = env_int("DATABASE_PREPARE_THRESHOLD", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PREPARE_THRESHOLD > 0:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=PREPARE_THRESHOLD
    )

# PostgreSQL: a request waits at most DATABASE_LOCK_TIMEOUT_MS for a row lock and
# runs a statement at most DATABASE_STATEMENT_TIMEOUT_MS; past either the
# transaction rolls back and the request answers 503 (booking.middleware), so a
# stuck lock or query never holds a worker for long. 0 turns one off.
DATABASE_LOCK_TIMEOUT_MS = env_int("DATABASE_LOCK_TIMEOUT_MS", 5000)
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}"
        f" -c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's tasks framework on the durable database backend; the worker is
# `python manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "email", "exports"],
    }
}

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "booking",
            # An unreachable Redis is a prompt 503 (see the README), not a hung worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "booking-backoffice",
        }
    }

# --- Admin login throttling (django-axes) -----------------------------------
# After ADMIN_LOGIN_FAILURE_LIMIT failed logins for one username from one client
# IP, that pair is refused (429) for ADMIN_LOGIN_COOLOFF_MINUTES; a success
# resets it. Keyed on the pair, so a stranger guessing cannot lock the owner out
# from their own address. Counted in the cache in production (Redis: shared by
# every process), in the database otherwise (a local-memory cache is per process).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "booking.audit.client_ip"  # honours TRUSTED_PROXY_COUNT
AXES_HANDLER = (
    "axes.handlers.cache.AxesCacheHandler"
    if REDIS_URL
    else "axes.handlers.database.AxesDatabaseHandler"
)
AXES_DISABLE_ACCESS_LOG = True  # successful logins are not logged (personal data)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
# The country of a new business (ISO 3166-1 alpha-2): phone numbers written without
# a country code are read as this country's.
DEFAULT_COUNTRY = env_str("DEFAULT_COUNTRY", "US").upper()
USE_I18N = True
USE_TZ = True
# One format for every datetime Django renders on staff pages ("Mon 07 Dec 2026, 18:00 CET").
FORMAT_MODULE_PATH = ["project.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

# --- Email ---------------------------------------------------------------
# Sent by the task worker from the outbox (booking/emails/); see project/mailers.py.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Booking Backoffice <bookings@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_PROVIDER = env_str("EMAIL_PROVIDER", "console")
MAILERS = {"default": mailers.mailer(EMAIL_PROVIDER, debug=DEBUG)}
# Provider options and the tracking webhook's basic-auth secret, from ANYMAIL_<NAME>.
ANYMAIL = mailers.anymail_settings(os.environ)
# Transient failures are retried with a doubling backoff (30 s, 1 min, … capped
# at 1 h) up to EMAIL_MAX_ATTEMPTS sends (about 3 hours); then the email fails.
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 10)
EMAIL_RETRY_BASE_DELAY = env_int("EMAIL_RETRY_BASE_DELAY", 30)
# PostgreSQL: each sent email's mark commits without waiting for the WAL flush (a
# crash of the database server may resend the last ~0.6 s of emails; see
# booking/emails/delivery.py).
EMAIL_ASYNC_COMMIT = env_bool("EMAIL_ASYNC_COMMIT", True)

# --- Audit trail (django-simple-history) ----------------------------------
# Reasons are up to 1000 characters and must be kept whole in the history.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# Reverting from the history page would change state outside the service layer.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Exports (django-import-export) ----------------------------------------
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# Off: import-export's escaping strips a leading "=" only, turns every cell into
# text and applies to XLSX and JSON too. Our CSV writer escapes = + - @ tab CR
# with a leading ' instead (booking.exports.writers), and only in CSV.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# --- Production hardening (checked by `manage.py check --deploy`) ----------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" its own console handler (under DEBUG)
        # while it also propagates to the root's: each line of the task worker
        # ("django.tasks") and of a request's error printed twice. The root prints them.
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# CSRF refusals answer JSON under /api/, Django's page elsewhere.
CSRF_FAILURE_VIEW = "booking.api.responses.csrf_failure"
CANCEL_LINK_MAX_AGE = env_int("CANCEL_LINK_MAX_AGE", 7 * 24 * 3600)

# --- Public client cancellation: rate limits (booking/services/throttle.py) --
# Failed identity checks (contact details or signed link) per booking reference
# and per client IP within the window; at the limit, attempts are refused (429).
RATE_LIMIT_FAILURES_PER_REFERENCE = env_int("RATE_LIMIT_FAILURES_PER_REFERENCE", 10)
RATE_LIMIT_FAILURES_PER_IP = env_int("RATE_LIMIT_FAILURES_PER_IP", 30)
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 15 * 60)
# "Email me a cancellation link" requests per booking and per IP within their window.
CANCEL_LINK_REQUESTS_PER_BOOKING = env_int("CANCEL_LINK_REQUESTS_PER_BOOKING", 3)
CANCEL_LINK_REQUESTS_PER_IP = env_int("CANCEL_LINK_REQUESTS_PER_IP", 20)
CANCEL_LINK_REQUEST_WINDOW_SECONDS = env_int("CANCEL_LINK_REQUEST_WINDOW_SECONDS", 60 * 60)
# The cache alias that holds the counters (shared by every process: Redis in production).
RATE_LIMIT_CACHE = env_str("RATE_LIMIT_CACHE", "default")
# A session with more active bookings than this is cancelled at once, and its
# bookings by a background job, in locked chunks of SESSION_CANCEL_CHUNK_SIZE.
SESSION_CANCEL_BACKGROUND_THRESHOLD = env_int("SESSION_CANCEL_BACKGROUND_THRESHOLD", 1000)
SESSION_CANCEL_CHUNK_SIZE = env_int("SESSION_CANCEL_CHUNK_SIZE", 500)
# Exports larger than this many rows run as a background job (booking/exports/).
EXPORT_STREAM_MAX_ROWS = env_int("EXPORT_STREAM_MAX_ROWS", 20_000)
# Background export files are deleted this many days after they were requested
# (by `manage.py bookings purge-deleted`), so personal data does not linger.
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7)
