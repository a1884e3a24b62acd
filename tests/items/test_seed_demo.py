from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from items.models import Item
from targets_site.management.commands import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings, tmp_path):
    """seed_demo also makes a demo export: keep its file out of the project's var/exports."""
    root = tmp_path / "exports"
    settings.EXPORTS_LOCAL_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }


SPEC_CATALOGUE = {
    "Laptop": Decimal("1200.00"),
    "Wireless Mouse": Decimal("25.50"),
    "USB-C Hub": Decimal("49.99"),
    "Keyboard": Decimal("75.00"),
    "Monitor": Decimal("299.99"),
}


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_seed_demo_creates_the_spec_catalogue(api_client):
    call_command("seed_demo", stdout=StringIO())
    prices = dict(Item.objects.values_list("name", "price"))
    assert {name: prices.get(name) for name in SPEC_CATALOGUE} == SPEC_CATALOGUE
    listed = api_client.get("/api/v1/items/", {"search": "Wireless Mouse"}).json()["results"]
    assert [row["price"] for row in listed] == ["25.50"]


def test_seed_demo_run_twice_changes_no_row_counts():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "failed" not in out.getvalue(), out.getvalue()
    first = row_counts()
    call_command("seed_demo", stdout=StringIO())
    assert row_counts() == first
    assert first["items.Item"] >= len(SPEC_CATALOGUE)


def test_seed_demo_keeps_an_edited_demo_item_as_the_user_left_it():
    call_command("seed_demo", stdout=StringIO())
    Item.objects.filter(name="Laptop").update(price=Decimal("999.00"))
    call_command("seed_demo", stdout=StringIO())
    assert Item.objects.get(name="Laptop").price == Decimal("999.00")
    assert Item.objects.filter(name="Laptop").count() == 1


def test_seed_demo_with_admin_creates_one_superuser_and_prints_the_login(tmp_path, monkeypatch):
    monkeypatch.setattr(seed_demo, "ADMIN_PASSWORD_FILE", tmp_path / "admin-password.txt")
    out = StringIO()
    call_command("seed_demo", "--admin", stdout=out)
    password = seed_demo.admin_password_file().read_text().strip()
    assert f"admin / {password}" in out.getvalue()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)

    again = StringIO()
    call_command("seed_demo", "--admin", stdout=again)
    assert f"admin / {password}" in again.getvalue()
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_seed_demo_never_prints_a_password_the_database_would_refuse(tmp_path, monkeypatch):
    monkeypatch.setattr(seed_demo, "ADMIN_PASSWORD_FILE", tmp_path / "admin-password.txt")
    call_command("seed_demo", "--admin", stdout=StringIO())
    # Another database's demo left its own password in this database's file.
    seed_demo.admin_password_file().write_text("another-databases-password\n")

    out = StringIO()
    call_command("seed_demo", "--admin", stdout=out)
    assert "another-databases-password" not in out.getvalue()
    assert "changepassword admin" in out.getvalue()


def test_each_database_keeps_its_own_admin_password_file(settings):
    sqlite_default = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": settings.VAR_DIR / "db.sqlite3",
    }
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "test", "HOST": "127.0.0.1"}
    other_postgres = {**postgres, "NAME": "prod"}

    assert seed_demo.admin_password_file(sqlite_default).name == "demo-admin-password.txt"
    assert seed_demo.admin_password_file(postgres).name == (
        "demo-admin-password-postgresql-127.0.0.1-test.txt"
    )
    assert seed_demo.admin_password_file(other_postgres) != seed_demo.admin_password_file(postgres)
