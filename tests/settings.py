"""Test settings: the real settings module with test-only environment defaults.

DATABASE_URL from the environment wins (CI points it at PostgreSQL); otherwise SQLite.
"""

import os
import tempfile

os.environ.setdefault("CREDO_ENVIRONMENT", "test")
os.environ.setdefault("CREDO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
# Two keys so rotation is exercised: "k2" encrypts, "k1" still decrypts.
os.environ.setdefault(
    "CREDO_ENCRYPTION_KEYS",
    "k2:Vm1lMHFhcWhQd2JtT3JmRTN1b2ZnV3Bwd2c1b0l4eE0=,k1:dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY=",
)
# One data directory per pytest-xdist worker: the demo clock, uploads and documents are files.
os.environ.setdefault(
    "CREDO_DATA_DIR",
    os.path.join(
        tempfile.gettempdir(), f"credo-test-data-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    ),
)
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
# Marketing tests written before consent existed send without it; tests/privacy turn it on.
os.environ.setdefault("CREDO_MARKETING_CONSENT_REQUIRED", "false")

from credo.settings import *  # noqa: E402,F403
from credo.settings import DATABASES, STATIC_ROOT  # noqa: E402

os.makedirs(STATIC_ROOT, exist_ok=True)  # whitenoise warns on every request otherwise

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("TEST", {})["NAME"] = None  # in-memory test database
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405
