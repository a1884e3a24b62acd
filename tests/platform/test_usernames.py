"""Usernames are unique case-insensitively (look-alike players cannot both register)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module(
    "targets_site.migrations.0002_username_unique_case_insensitively"
)


def register(client, username):
    return client.post(
        "/api/v1/players/",
        {"username": username, "password": "a long passphrase 42"},
        format="json",
    )


def test_registration_refuses_a_name_that_differs_only_by_case(api_client):
    assert register(api_client, "Racer421f0").status_code == 201
    error = assert_error(register(api_client, "RACER421F0"), 400, "validation_error")
    assert "username" in error["details"]
    assert get_user_model().objects.filter(username__iexact="racer421f0").count() == 1


def test_the_database_refuses_a_case_variant_whatever_the_code_path(make_user):
    make_user("Racer421f0")
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user(username="RACER421F0", password="x" * 20)


# Transactional: SQLite's schema editor cannot run inside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_the_migration_lists_existing_clashes_instead_of_failing_obscurely(make_user):
    with connection.schema_editor() as editor:
        MIGRATION.remove_constraint(global_apps, editor)
    make_user("Racer421f0")
    make_user("RACER421F0")
    make_user("solo")

    with pytest.raises(RuntimeError) as refused, connection.schema_editor() as editor:
        MIGRATION.add_constraint(global_apps, editor)

    message = str(refused.value)
    assert "1 group(s) of usernames differ only by case" in message
    assert "'RACER421F0', 'Racer421f0'" in message
    assert "solo" not in message
    get_user_model().objects.filter(username="RACER421F0").delete()
    with connection.schema_editor() as editor:
        MIGRATION.add_constraint(global_apps, editor)
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user(username="SOLO", password="x" * 20)
