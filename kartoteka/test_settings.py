"""Test settings: the real settings with faster, isolated pieces swapped in."""

import os

import dj_database_url

from kartoteka.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# Enforcement is tested with override_settings; the rest of the suite signs in without 2FA.
KARTOTEKA_2FA_REQUIRED_ROLES: list[str] = []

_test_url = os.environ.get("KARTOTEKA_TEST_DATABASE_URL")
if _test_url:
    DATABASES = {"default": dj_database_url.parse(_test_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "OPTIONS": {"init_command": "PRAGMA foreign_keys=ON;"},
            "TEST": {"NAME": ":memory:"},
        }
    }

# Encryption at rest: tests never touch the real key file; one throwaway file per test process
# (tests that rotate keys point the setting at their own tmp_path).
import tempfile as _tempfile  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

KARTOTEKA_ENCRYPTION_KEY_FILE = _Path(_tempfile.mkdtemp(prefix="kartoteka-test-keys-")) / "keys"

# Backups: no test makes a scheduled backup unless it asks to (the worker clock's tests run
# every periodic task), and none writes into the real backup directory.
KARTOTEKA_BACKUP_SCHEDULE_HOURS = 0
KARTOTEKA_BACKUP_DIR = _Path(_tempfile.mkdtemp(prefix="kartoteka-test-backups-"))
