"""django-axes guards the admin login only: API token failures never lock anyone out of it."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.security.test_admin_login import LOGIN

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.50"


@pytest.fixture
def boss(make_user):
    return make_user("boss", is_staff=True, is_superuser=True)


def test_failed_api_token_requests_do_not_lock_the_address_out_of_the_admin(boss):
    api = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        response = api.post(
            "/api/v1/auth/token/",
            {"username": "boss", "password": "wrong"},
            format="json",
            REMOTE_ADDR=ADDRESS,
        )
        assert response.status_code == 400

    assert not AccessAttempt.objects.exists()
    assert not AccessFailureLog.objects.exists()
    admin_login = Client().post(
        LOGIN, {"username": "boss", "password": "correct horse battery"}, REMOTE_ADDR=ADDRESS
    )
    assert admin_login.status_code == 302


def test_failed_admin_logins_are_counted(boss):
    Client().post(LOGIN, {"username": "boss", "password": "wrong"}, REMOTE_ADDR=ADDRESS)
    assert AccessAttempt.objects.filter(ip_address=ADDRESS).exists()
