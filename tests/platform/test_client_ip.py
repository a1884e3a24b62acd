"""client_ip (django-axes' key for login failures) is DRF's throttle identity, proxies included."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings

from targets_site.auth import client_ip


def request_from(remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/admin/login/", **headers)


def proxies(count: int):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": count})


def test_without_proxies_a_forwarded_header_is_ignored():
    with proxies(0):
        assert client_ip(request_from("192.0.2.9", "203.0.113.1")) == "192.0.2.9"
        assert client_ip(request_from("192.0.2.9")) == "192.0.2.9"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.1", "203.0.113.1"),
        # The client may prepend anything; the proxy appends what it saw, so count from the right.
        (1, "10.6.6.6, 203.0.113.1", "203.0.113.1"),
        (2, "10.6.6.6, 203.0.113.1, 198.51.100.7", "203.0.113.1"),
        (3, "203.0.113.1", "203.0.113.1"),
    ],
)
def test_behind_proxies_the_address_that_many_hops_back_is_the_client(count, forwarded, expected):
    with proxies(count):
        assert client_ip(request_from("192.0.2.9", forwarded)) == expected


def test_behind_a_proxy_without_a_forwarded_header_the_peer_is_the_client():
    with proxies(1):
        assert client_ip(request_from("192.0.2.9")) == "192.0.2.9"


def test_a_request_without_remote_addr_is_logged_not_a_500(client):
    """Some WSGI callers (test clients, fuzzers) send no REMOTE_ADDR: the log writes "-"."""
    response = client.get("/healthz", REMOTE_ADDR=None)
    assert response.status_code == 200
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) == ""
