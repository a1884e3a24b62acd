from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped on SQLite; CI's PostgreSQL pass runs them."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Throttle counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def local_exports(settings, tmp_path) -> Path:
    """This test's local export directory: exports from any test go to a per-test directory.

    Test databases roll back and reuse ids, but files would stay in var/exports and collide with
    the next test's never-reused key.
    """
    root = tmp_path / "exports-storage"
    settings.EXPORTS_STORAGE = "local"
    settings.EXPORTS_LOCAL_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    return root


@pytest.fixture(autouse=True)
def _demo_secrets_in_tmp(monkeypatch, tmp_path):
    """seed_demo writes the device key it prints once; tests keep it out of the checkout's var/."""
    import accounts.demo

    monkeypatch.setattr(accounts.demo, "DEVICE_KEY_FILE", tmp_path / "demo-device-key.txt")


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db):
    """``make_user("alice", perms=["items.add_item"], is_staff=False)`` -> a saved user."""
    from django.contrib.auth.models import Permission

    def make(username: str = "user", *, perms: list[str] = (), is_staff: bool = False, **extra):
        user = get_user_model().objects.create_user(
            username=username, password="correct horse battery", is_staff=is_staff, **extra
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    return make


@pytest.fixture
def client_for():
    """``client_for(user)`` -> an APIClient authenticated with the user's token."""

    def make(user) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def staff_user(make_user):
    return make_user("staff", is_staff=True)


@pytest.fixture
def staff_client(client_for, staff_user) -> APIClient:
    return client_for(staff_user)


@pytest.fixture
def user_client(client_for, make_user) -> APIClient:
    return client_for(make_user("plain"))
