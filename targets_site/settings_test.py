"""Settings for the test suite: the real settings module, fed a test environment.

The environment is set before ``targets_site.settings`` parses it, so the tests exercise the same
parsing code as production. ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` pass through.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + "k" * 60)
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from targets_site.settings import *  # noqa: F403
from targets_site.settings import STORAGES

# Hashing cost is irrelevant to what the tests check and dominates their run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The manifest needs collectstatic; tests render the admin without it.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
