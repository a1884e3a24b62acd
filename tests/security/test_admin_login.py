"""The admin login is guarded against password guessing (django-axes)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def _try(client: Client, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": "boss", "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def boss(make_user):
    return make_user("boss", is_staff=True, is_superuser=True)


def test_the_right_password_logs_a_staff_user_in(boss):
    response = _try(Client(), "correct horse battery")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_after_the_failure_limit_even_the_right_password_is_refused_from_that_address(boss):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _try(client, "wrong").status_code == 200  # the form again, with an error
    assert _try(client, "wrong").status_code == 429
    locked = _try(client, "correct horse battery")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_from_one_address_does_not_lock_out_the_admin_elsewhere(boss):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try(attacker, "wrong", address="203.0.113.66")
    assert _try(attacker, "correct horse battery", address="203.0.113.66").status_code == 429
    assert _try(Client(), "correct horse battery", address="198.51.100.1").status_code == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_count(boss):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "boss", "password": "wrong"},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    response = client.post(
        LOGIN,
        {"username": "boss", "password": "correct horse battery"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert response.status_code == 429


def test_a_success_before_the_limit_resets_the_count(boss):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _try(client, "wrong")
    assert _try(client, "correct horse battery").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _try(client, "wrong").status_code == 200
