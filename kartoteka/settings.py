"""Kartoteka settings: the only settings module, driven by KARTOTEKA_* environment variables.

Every variable is documented in docs/configuration.md.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    # A typo in a boolean must not silently switch a feature off (Healthchecks).
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_secret(name: str, default: str = "") -> str:
    """Read a secret from NAME, or from the file named by NAME_FILE (Docker/systemd secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("KARTOTEKA_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    given = env_secret("KARTOTEKA_SECRET_KEY")
    if given:
        return given
    # Generated once into the data directory so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KARTOTEKA_DEBUG", False)
ALLOWED_HOSTS = env_list("KARTOTEKA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("KARTOTEKA_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    # ninja's templates and static files: the API docs page is served locally, not from a CDN.
    "ninja",
    "kartoteka.core",
    "kartoteka.accounts",
    "kartoteka.clients",
    "kartoteka.search",
    "kartoteka.activities",
    "kartoteka.sales",
    "kartoteka.finance",
    "kartoteka.care",
    "kartoteka.documents",
    "kartoteka.tasks",
    "kartoteka.notifications",
    "kartoteka.plans",
    "kartoteka.imports",
    "kartoteka.exports",
    "kartoteka.quality",
    "kartoteka.dedupe",
    "kartoteka.audit",
    "kartoteka.history",
    "kartoteka.consent",
    "kartoteka.privacy",
    "kartoteka.backups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kartoteka.core.csp.SecurityHeadersMiddleware",  # CSP, Permissions-Policy, CORP
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kartoteka.core.middleware.RequestContextMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kartoteka.accounts.middleware.SignInSecurityMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "kartoteka.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kartoteka.urls"
WSGI_APPLICATION = "kartoteka.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "kartoteka.sqlite3"
SQLITE_OPTIONS = {
    # A server, not a desktop file: readers never block the writer (WAL), writers
    # take the lock up front so they queue instead of failing mid-transaction.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA cache_size=-65536;"
        "PRAGMA mmap_size=268435456;"
        "PRAGMA temp_store=MEMORY;"
    ),
}
DATABASE_URL = env_secret("KARTOTEKA_DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # A SQLite file given by URL (sqlite:////path/file.sqlite3) is tuned like the default.
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "clients:list"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("KARTOTEKA_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages and formats ------------------------------------------------------------------
LANGUAGE_CODE = env_str("KARTOTEKA_LANGUAGE", "ru")
LANGUAGES = [
    ("ru", _("Russian")),
    ("uk", _("Ukrainian")),
    ("zh-hans", _("Simplified Chinese")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("KARTOTEKA_TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
# Uploaded files (documents, photos): local disk under the data directory, or an
# S3-compatible bucket (AWS, MinIO, Yandex Object Storage, Alibaba OSS ...) when
# KARTOTEKA_S3_BUCKET is set. Either way files are private: they are served only through
# views that check the card's permissions, never from a public or pre-signed URL.
S3_BUCKET = env_str("KARTOTEKA_S3_BUCKET")
DEFAULT_STORAGE: dict[str, object] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if S3_BUCKET:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("KARTOTEKA_S3_ENDPOINT_URL") or None,
            "region_name": env_str("KARTOTEKA_S3_REGION") or None,
            "access_key": env_secret("KARTOTEKA_S3_ACCESS_KEY") or None,
            "secret_key": env_secret("KARTOTEKA_S3_SECRET_KEY") or None,
            "location": env_str("KARTOTEKA_S3_PREFIX", "kartoteka").strip("/"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "addressing_style": env_str("KARTOTEKA_S3_ADDRESSING", "path") or None,
        },
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------
HTTPS = env_bool("KARTOTEKA_HTTPS", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = HTTPS
# Pages carry the token in the form and in hx-headers; no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("KARTOTEKA_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("KARTOTEKA_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KARTOTEKA_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("KARTOTEKA_HSTS_PRELOAD", False)
# Listing the domain in browsers' preload lists is the domain owner's commitment, not a
# default Kartoteka can make for them; KARTOTEKA_HSTS_PRELOAD=1 turns it on.
SILENCED_SYSTEM_CHECKS = [] if env_bool("KARTOTEKA_HSTS_PRELOAD", False) else ["security.W021"]

# --- Sign-in and sessions (docs/configuration.md) -------------------------------------------
# Proxies whose X-Forwarded-For is believed (addresses or networks); from anyone else the
# header is ignored, so a forged one cannot dodge the per-address lockout.
KARTOTEKA_TRUSTED_PROXIES = env_list("KARTOTEKA_TRUSTED_PROXIES", "")
KARTOTEKA_LOGIN_MAX_FAILURES = env_int("KARTOTEKA_LOGIN_MAX_FAILURES", 10)
KARTOTEKA_LOGIN_MAX_FAILURES_PER_IP = env_int("KARTOTEKA_LOGIN_MAX_FAILURES_PER_IP", 50)
KARTOTEKA_LOGIN_LOCKOUT_MINUTES = env_int("KARTOTEKA_LOGIN_LOCKOUT_MINUTES", 15)
KARTOTEKA_2FA_REQUIRED_ROLES = env_list("KARTOTEKA_2FA_REQUIRED_ROLES", "")
_ROLES = {"admin", "manager", "employee", "readonly"}
if _unknown_roles := sorted(set(KARTOTEKA_2FA_REQUIRED_ROLES) - _ROLES):
    raise ImproperlyConfigured(
        f"KARTOTEKA_2FA_REQUIRED_ROLES: unknown roles {_unknown_roles}; "
        f"use {', '.join(sorted(_ROLES))}"
    )
KARTOTEKA_SESSION_IDLE_MINUTES = env_int("KARTOTEKA_SESSION_IDLE_MINUTES", 120)
KARTOTEKA_SESSION_MAX_HOURS = env_int("KARTOTEKA_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = KARTOTEKA_SESSION_MAX_HOURS * 3600
# AES-GCM keys for secrets at rest (core.crypto): outside the database and its backups.
KARTOTEKA_ENCRYPTION_KEY_FILE = Path(
    env_str("KARTOTEKA_ENCRYPTION_KEY_FILE", str(DATA_DIR / "encryption.keys"))
)

# --- Background tasks -----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Email ----------------------------------------------------------------------------------
if env_bool("KARTOTEKA_USE_SMTP", False):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("KARTOTEKA_SMTP_HOST")
    if not EMAIL_HOST:
        raise ImproperlyConfigured("KARTOTEKA_USE_SMTP is on but KARTOTEKA_SMTP_HOST is empty")
    EMAIL_PORT = env_int("KARTOTEKA_SMTP_PORT", 587)
    EMAIL_HOST_USER = env_str("KARTOTEKA_SMTP_USER")
    EMAIL_HOST_PASSWORD = env_secret("KARTOTEKA_SMTP_PASSWORD")
    EMAIL_USE_TLS = env_bool("KARTOTEKA_SMTP_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("KARTOTEKA_FROM_EMAIL", "kartoteka@localhost")
# Links in emails point here (the address people open Kartoteka at).
KARTOTEKA_BASE_URL = env_str("KARTOTEKA_BASE_URL", "http://127.0.0.1:8000")
# The automatic reminders (birthdays, debts ...) run once a day from this hour on, in the
# business's time zone, so they arrive in the morning.
KARTOTEKA_REMINDERS_HOUR = env_int("KARTOTEKA_REMINDERS_HOUR", 8)

# --- Domain ---------------------------------------------------------------------------------
# Region used to read phone numbers written without a country code ("8 916 ..." in Russia).
KARTOTEKA_PHONE_REGION = env_str("KARTOTEKA_PHONE_REGION", "RU").upper()
KARTOTEKA_PAGE_SIZE = env_int("KARTOTEKA_PAGE_SIZE", 50)
# Days an export's file stays downloadable; the worker deletes older files (0 = keep).
KARTOTEKA_EXPORT_KEEP_DAYS = env_int("KARTOTEKA_EXPORT_KEEP_DAYS", 7)
# Bulk normalisation of more cards than this runs in the worker, with a progress bar.
KARTOTEKA_NORMALISE_INLINE_CARDS = env_int("KARTOTEKA_NORMALISE_INLINE_CARDS", 5000)
# Largest file accepted on a card (documents, photos).
KARTOTEKA_MAX_UPLOAD_MB = env_int("KARTOTEKA_MAX_UPLOAD_MB", 20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Imports (docs/configuration.md): the largest file, what a file may hold, batch size (one
# transaction each), validation processes (unset: both cores for large files), and how long
# a run may stay silent before it counts as interrupted.
KARTOTEKA_IMPORT_MAX_MB = env_int("KARTOTEKA_IMPORT_MAX_MB", 500)
KARTOTEKA_IMPORT_MAX_ROWS = env_int("KARTOTEKA_IMPORT_MAX_ROWS", 2_000_000)
KARTOTEKA_IMPORT_MAX_COLUMNS = env_int("KARTOTEKA_IMPORT_MAX_COLUMNS", 500)
KARTOTEKA_IMPORT_MAX_CELL_CHARS = env_int("KARTOTEKA_IMPORT_MAX_CELL_CHARS", 10_000)
KARTOTEKA_IMPORT_BATCH_SIZE = env_int("KARTOTEKA_IMPORT_BATCH_SIZE", 2000)
KARTOTEKA_IMPORT_WORKERS = (
    env_int("KARTOTEKA_IMPORT_WORKERS", 0) if os.environ.get("KARTOTEKA_IMPORT_WORKERS") else None
)
KARTOTEKA_IMPORT_STALE_SECONDS = env_int("KARTOTEKA_IMPORT_STALE_SECONDS", 120)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KARTOTEKA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Consent (issue 6) -----------------------------------------------------------------------
# Days between withdrawing the health-data consent and the erasure of the card's health notes
# (giving the consent again meanwhile cancels it); 0 erases them at once.
KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS = max(0, env_int("KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS", 30))

# --- Privacy: data-subject requests and retention (issue 6) ----------------------------------
# Public holidays skipped when counting working days towards request deadlines (ISO dates,
# comma-separated, e.g. "2026-01-01,2026-01-02"); weekends are always skipped.
KARTOTEKA_HOLIDAYS = env_list("KARTOTEKA_HOLIDAYS", "")
# Cards with no activity for this many years are flagged for review (0 = off) ...
KARTOTEKA_RETENTION_INACTIVE_YEARS = max(0, env_int("KARTOTEKA_RETENTION_INACTIVE_YEARS", 0))
# ... or, with "anonymise", erased irreversibly by the daily retention run.
KARTOTEKA_RETENTION_ACTION = env_str("KARTOTEKA_RETENTION_ACTION", "flag").lower()
if KARTOTEKA_RETENTION_ACTION not in ("flag", "anonymise"):
    raise ImproperlyConfigured("KARTOTEKA_RETENTION_ACTION must be 'flag' or 'anonymise'.")

# --- Audit trail (issue 6) ---------------------------------------------------------------------
# Audit events older than this many days are pruned by the daily run (`kartoteka audit prune`);
# the chain stays verifiable from the hash of the last pruned event. Default: five years.
KARTOTEKA_AUDIT_RETENTION_DAYS = max(1, env_int("KARTOTEKA_AUDIT_RETENTION_DAYS", 1825))
# Audit events recorded by services get the request's address and browser from here.
MIDDLEWARE.append("kartoteka.audit.middleware.AuditOriginMiddleware")

# --- Backups (issue 6; docs/configuration.md, "Backups") -------------------------------------
# Where `kartoteka backup` and the worker's scheduled backups write their archives.
KARTOTEKA_BACKUP_DIR = Path(env_str("KARTOTEKA_BACKUP_DIR", str(DATA_DIR / "backups")))
# Hours between scheduled backups made by the worker (0 = no scheduled backups) ...
KARTOTEKA_BACKUP_SCHEDULE_HOURS = max(0, env_int("KARTOTEKA_BACKUP_SCHEDULE_HOURS", 24))
# ... and how many archives to keep (older ones are deleted after each backup; 0 = keep all).
KARTOTEKA_BACKUP_KEEP = max(0, env_int("KARTOTEKA_BACKUP_KEEP", 7))
# Archives are encrypted (AES-256-GCM, key derived by scrypt) with this passphrase.
KARTOTEKA_BACKUP_PASSPHRASE = env_secret("KARTOTEKA_BACKUP_PASSPHRASE")
KARTOTEKA_BACKUP_ENCRYPT = env_bool("KARTOTEKA_BACKUP_ENCRYPT", False)
if KARTOTEKA_BACKUP_ENCRYPT and not KARTOTEKA_BACKUP_PASSPHRASE:
    raise ImproperlyConfigured(
        "KARTOTEKA_BACKUP_ENCRYPT is on but KARTOTEKA_BACKUP_PASSPHRASE (or _FILE) is empty"
    )
# Scheduled backups are checked by restoring them into a scratch database.
KARTOTEKA_BACKUP_VERIFY = env_bool("KARTOTEKA_BACKUP_VERIFY", True)
