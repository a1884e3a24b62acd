"""Cheap attacks on the platform: deep JSON, forged log lines, floods of bad Host headers."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings

from targets_site.parsers import MAX_JSON_DEPTH
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def post_raw(client, path, body: str):
    return client.generic("POST", path, body.encode(), content_type="application/json")


@pytest.mark.parametrize("path", ["/api/v1/players/", "/api/v1/auth/token/", "/api/v1/scores/"])
def test_thousands_of_nested_brackets_are_a_400_not_a_server_error(user_client, path):
    response = post_raw(user_client, path, "[" * 5000 + "]" * 5000)
    error = assert_error(response, 400, "parse_error")
    assert "nested deeper" in error["message"]


def test_json_just_past_the_depth_limit_is_a_400_and_at_the_limit_is_parsed(user_client):
    too_deep = '{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    at_limit = '{"a": ' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH
    assert_error(post_raw(user_client, "/api/v1/scores/", too_deep), 400, "parse_error")
    # Parsed, then refused by the serializer for what it says, not for how deep it is.
    assert_error(post_raw(user_client, "/api/v1/scores/", at_limit), 400, "validation_error")


def test_many_flat_brackets_in_strings_are_not_mistaken_for_depth(user_client):
    body = '{"client_version": "' + "[" * 100 + '"}'
    assert_error(post_raw(user_client, "/api/v1/scores/", body), 400, "validation_error")


def _formatted(records) -> list[str]:
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    return [formatter.format(record) for record in records]


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def collect():
    handlers = []

    def attach(name: str) -> Collect:
        handler = Collect()
        logging.getLogger(name).addHandler(handler)
        handlers.append((name, handler))
        return handler

    yield attach
    for name, handler in handlers:
        logging.getLogger(name).removeHandler(handler)


def test_a_newline_in_the_path_cannot_forge_a_log_line(client, collect):
    handler = collect("targets.request")
    client.get("/api/v1/items/%0a2026-11-30 00:00:00,000 INFO targets.request GET /admin/ 200")
    client.get("/x%1b[31mred%e2%80%a8sep\\back")

    lines = _formatted(handler.records)
    assert len(lines) == 2
    assert all("\n" not in line and "\x1b" not in line and "\u2028" not in line for line in lines)
    assert "/api/v1/items/\\n2026-11-30" in lines[0]
    assert "\\x1b[31mred\\u2028sep\\\\back" in lines[1]


@pytest.fixture
def bad_host_filter():
    (found,) = logging.getLogger("django.security.DisallowedHost").filters
    found._window_started, found._passed, found._suppressed = -float("inf"), 0, 0
    yield found
    found._window_started, found._passed, found._suppressed = -float("inf"), 0, 0


def test_a_bad_host_is_one_warning_line_without_traceback(client, collect, bad_host_filter):
    handler = collect("django.security.DisallowedHost")
    assert client.get("/api/v1/items/", HTTP_HOST="evil.example.com").status_code == 400

    (record,) = handler.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    (line,) = _formatted(handler.records)
    assert "\n" not in line
    assert "WARNING django.security.DisallowedHost" in line
    assert "'evil.example.com'" in line


def test_a_flood_of_bad_hosts_is_rate_limited_in_the_log(client, collect, bad_host_filter):
    handler = collect("django.security.DisallowedHost")
    for n in range(50):
        assert client.get("/healthz", HTTP_HOST=f"evil{n}.example.com").status_code == 400

    assert len(handler.records) == bad_host_filter.burst
    bad_host_filter._window_started = -float("inf")  # the next minute
    client.get("/healthz", HTTP_HOST="late.example.com")
    assert "(45 more not logged)" in _formatted(handler.records)[-1]
