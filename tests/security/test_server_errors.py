"""An unhandled error with debug off: the generic JSON 500, the details only in the log."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from items.views import ItemViewSet
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

SECRET = "db-password=hunter2 at /srv/targets/items/views.py"


def _boom(*args, **kwargs):
    raise RuntimeError(SECRET)


def test_debug_is_off_in_the_suite_as_in_production(settings):
    assert settings.DEBUG is False


def test_an_unhandled_error_answers_the_generic_json_500_without_the_traceback(monkeypatch, caplog):
    monkeypatch.setattr(ItemViewSet, "list", _boom)
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/items/")
    error = assert_error(response, 500, "server_error")
    assert error["details"] == {}
    text = response.content.decode()
    for leak in ("hunter2", "RuntimeError", "Traceback", "/srv/", "views.py", "SELECT"):
        assert leak not in text, leak
    # The operator still gets everything, in the log.
    assert any(SECRET in (record.exc_text or "") or record.exc_info for record in caplog.records)


def test_an_unhandled_error_in_a_write_leaks_nothing(monkeypatch, staff_client):
    from items import services

    monkeypatch.setattr(services, "item_create", _boom)
    staff_client.raise_request_exception = False
    response = staff_client.post("/api/v1/items/", {"name": "Lamp", "price": "1.00"})
    assert_error(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()


def test_a_404_page_outside_the_api_is_not_a_debug_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"URLconf" not in response.content
    assert b"Traceback" not in response.content
