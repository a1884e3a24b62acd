"""Every error under /api/ answers in the one JSON shape, whatever raised it."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.helpers import assert_error
from tests.items.factories import ItemFactory
from tests.platform.urls_for_tests import SECRET

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/items/"
TEST_URLS = override_settings(ROOT_URLCONF="tests.platform.urls_for_tests")


def test_a_validation_error_is_400_with_per_field_details(staff_client):
    error = assert_error(staff_client.post(ITEMS, {"price": "x"}, format="json"), 400)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"name", "price"}
    assert all(isinstance(m, str) for msgs in error["details"].values() for m in msgs)


def test_malformed_json_is_400_parse_error(staff_client):
    response = staff_client.post(ITEMS, b"{oops", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_no_credentials_is_401_with_a_www_authenticate_header(api_client):
    response = api_client.post(ITEMS, {"name": "x", "price": "1"}, format="json")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_missing_permission_is_403(user_client):
    assert_error(user_client.post(ITEMS, {}, format="json"), 403, "permission_denied")


def test_an_unknown_item_is_404(api_client):
    assert_error(api_client.get(f"{ITEMS}424242/"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/nope", "/api/v1/nope/", "/api/v2/items/", "/api/"])
def test_an_unknown_api_path_is_a_json_404(api_client, path):
    assert_error(api_client.get(path), 404, "not_found")
    assert_error(api_client.post(path, {}, format="json"), 404, "not_found")


def test_an_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_not_allowed_is_405(staff_client):
    item = ItemFactory()
    assert_error(staff_client.post(f"{ITEMS}{item.pk}/", {}, format="json"), 405)
    error = assert_error(staff_client.delete(ITEMS), 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_a_conflict_is_409(staff_client):
    item = ItemFactory(stock_quantity=0)
    assert_error(staff_client.post(f"{ITEMS}{item.pk}/adjust-stock/", {"delta": -1}), 409)


def test_a_stale_precondition_is_412(staff_client):
    item = ItemFactory()
    response = staff_client.patch(
        f"{ITEMS}{item.pk}/", {"name": "x"}, format="json", HTTP_IF_MATCH='"stale"'
    )
    assert_error(response, 412, "precondition_failed")


def test_a_body_over_the_limit_is_413(staff_client):
    body = b'{"name": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    assert_error(staff_client.post(ITEMS, body, content_type="application/json"), 413)


def test_a_declared_length_over_the_limit_is_413(staff_client):
    response = staff_client.post(
        ITEMS,
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(10 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
    )
    assert_error(response, 413, "payload_too_large")


def test_a_wrong_content_type_is_415(staff_client):
    response = staff_client.post(ITEMS, b"name=x", content_type="text/csv")
    assert_error(response, 415, "unsupported_media_type")


def test_an_unacceptable_accept_header_is_406(api_client):
    assert_error(api_client.get(ITEMS, HTTP_ACCEPT="application/xml"), 406, "not_acceptable")


def test_too_many_requests_is_429_with_retry_after(api_client, rates):
    rates(anon="2/min")
    for _ in range(2):
        assert api_client.get(ITEMS).status_code == 200
    response = api_client.get(ITEMS)
    error = assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in error["message"].lower()


def test_an_unhandled_error_in_an_api_view_is_a_generic_500_with_the_traceback_logged(
    api_client, caplog
):
    with TEST_URLS, caplog.at_level(logging.ERROR, logger="targets.errors"):
        response = api_client.get("/api/test/drf-boom/")
    error = assert_error(response, 500, "server_error")
    assert error["details"] == {}
    assert SECRET not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    records = [r for r in caplog.records if r.name == "targets.errors"]
    assert records and records[0].exc_info
    assert SECRET in caplog.text
    assert "Traceback" in caplog.text


@pytest.fixture
def django_request_log(caplog):
    """django.request does not propagate to the root logger, so listen to it directly."""
    logger = logging.getLogger("django.request")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def test_an_unhandled_error_in_a_plain_django_api_view_is_the_same_json_500(django_request_log):
    browser = Client(raise_request_exception=False)
    with TEST_URLS:
        response = browser.get("/api/test/django-boom/")
    error = assert_error(response, 500, "server_error")
    assert SECRET not in response.content.decode()
    assert error["message"] == "An internal error occurred; it has been logged."
    assert SECRET in django_request_log.text


def test_an_unhandled_error_outside_the_api_is_an_html_500(client):
    browser = Client(raise_request_exception=False)
    with TEST_URLS:
        response = browser.get("/site/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert SECRET.encode() not in response.content


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/test/django-404/", 404, "not_found"),
        ("/api/test/django-403/", 403, "permission_denied"),
        ("/api/test/django-400/", 400, "bad_request"),
    ],
)
def test_djangos_own_error_handlers_answer_json_under_the_api(path, status, code):
    with TEST_URLS:
        response = Client(raise_request_exception=False).get(path)
    assert_error(response, status, code)
    assert SECRET not in response.content.decode()


def test_a_disallowed_host_is_a_json_400_under_the_api(client):
    assert_error(client.get(ITEMS, HTTP_HOST="evil.example.com"), 400, "bad_request")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/items/?search=a%00b",
        "/api/v1/items/?%00=1",
        "/api/v1/items/?ordering=name%00",
        "/api/v1/items/%00/",
        "/api/v1/it%00ems/",
        "/admin/%00",
    ],
)
def test_nul_bytes_in_the_path_or_query_string_are_400(api_client, url):
    error = assert_error(api_client.get(url), 400, "bad_request")
    assert "NUL" in error["message"]


def test_errors_carry_a_request_id_too(api_client):
    response = api_client.get("/api/nope")
    assert len(response["X-Request-ID"]) == 32
