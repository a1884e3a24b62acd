from __future__ import annotations

import pytest
from django.test import override_settings

from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/items/"
TOKEN_URL = "/api/v1/auth/token/"


def test_anonymous_clients_are_throttled_with_retry_after(api_client, rates):
    rates(anon="3/min")
    for _ in range(3):
        assert api_client.get(ITEMS).status_code == 200
    response = api_client.get(ITEMS)
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_rotating_x_forwarded_for_does_not_reset_the_anonymous_count(api_client, rates):
    rates(anon="3/min")
    for n in range(3):
        response = api_client.get(ITEMS, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code == 200
    response = api_client.get(ITEMS, HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert_error(response, 429, "throttled")


def test_a_different_remote_address_has_its_own_count(api_client, rates):
    rates(anon="1/min")
    assert api_client.get(ITEMS, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert api_client.get(ITEMS, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert api_client.get(ITEMS, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_behind_one_proxy_the_forwarded_client_address_is_counted(api_client, rates):
    from django.conf import settings

    rates(anon="1/min")
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        first = api_client.get(ITEMS, HTTP_X_FORWARDED_FOR="203.0.113.1")
        again = api_client.get(ITEMS, HTTP_X_FORWARDED_FOR="203.0.113.1")
        other = api_client.get(ITEMS, HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert (first.status_code, again.status_code, other.status_code) == (200, 429, 200)


def test_authenticated_users_are_counted_per_user_not_per_address(client_for, make_user, rates):
    rates(user="2/min", anon="1000/min")
    alice, bob = client_for(make_user("alice")), client_for(make_user("bob"))
    assert alice.get(ITEMS).status_code == 200
    assert alice.get(ITEMS).status_code == 200
    assert_error(alice.get(ITEMS), 429, "throttled")
    assert bob.get(ITEMS).status_code == 200


def test_the_token_endpoint_has_its_own_login_rate(api_client, make_user, rates):
    rates(login="2/min", anon="1000/min")
    make_user("alice")
    wrong = {"username": "alice", "password": "guess"}
    for _ in range(2):
        assert api_client.post(TOKEN_URL, wrong, format="json").status_code == 400
    right = {"username": "alice", "password": "correct horse battery"}
    response = api_client.post(TOKEN_URL, right, format="json")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    # The login scope does not spill over onto ordinary reads.
    assert api_client.get(ITEMS).status_code == 200


def test_anonymous_requests_are_held_to_the_anon_rate_only(api_client, rates):
    rates(anon="5/min", user="1/min")
    statuses = [api_client.get(ITEMS).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def test_when_the_shared_cache_is_down_reads_pass_and_writes_are_a_json_503(staff_client):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert staff_client.get(ITEMS).status_code == 200
        response = staff_client.post(ITEMS, {"name": "x", "price": "1"}, format="json")
    error = assert_error(response, 503, "service_unavailable")
    assert "Rate limiting" in error["message"]
    from items.models import Item

    assert not Item.objects.exists()
