"""Tests. With CI=true they must run on the real PostgreSQL and Redis (tests/conftest.py checks);
without CI they fall back to SQLite and the bundled broker, with a printed notice."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import VAR_DIR, env

SECRET_KEY = "tests-only"
PSEUDONYM_KEY = "tests-only-pseudonym-key"
DEBUG = False
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'test.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    # A file (not :memory:) so that a real Celery worker process can share it; one per test run so
    # that concurrent runs on one machine never share a database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"osteoscreen-test-{os.getpid()}.sqlite3")
    }
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A worker process started by a test is handed the test's MEDIA_ROOT through the environment.
MEDIA_ROOT = env("MEDIA_ROOT", default=None) or tempfile.mkdtemp(prefix="osteoscreen-test-media-")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
WHITENOISE_USE_FINDERS = True
