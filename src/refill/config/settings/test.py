"""Test settings: fast password hashing, mail kept in memory unless a test points at SMTP."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS, TASKS, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
REFILL_SMS_BACKEND = "refill.integrations.sms.locmem.LocmemSmsBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REFILL_DEMO = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that race tests can start real processes on the same database.
    name = os.environ.get("REFILL_TEST_DB_NAME") or f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"{name}.sqlite3")}
# Serve static files from the app folders (no collectstatic in tests). pytest-django's live_server
# serves them only when it finds "django.contrib.staticfiles" itself among the apps; the project's
# subclass of its config only narrows what collectstatic copies, which tests do not run.
INSTALLED_APPS = [
    "django.contrib.staticfiles" if app == "refill.config.staticfiles.RefillStaticFilesConfig" else app
    for app in INSTALLED_APPS
]
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests travel in time between requests; the session limits are tested with these turned on
# (tests/integration/security/test_session_timeout.py).
REFILL_SESSION_IDLE_TIMEOUT = 0
REFILL_SESSION_MAX_AGE = 0
REFILL_LEDGER_GUARD = False  # lets the test runner empty ledger tables on SQLite between tests
# Domain events' handlers run inside the emitting transaction, as the hand-wired calls they
# replace did, so that a test sees a paid order's notices and webhooks without running a worker.
# tests/integration/events/ run them through the database queue and the sweep instead.
TASKS = {**TASKS, "immediate": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
REFILL_EVENTS_TASK_BACKEND = "immediate"
