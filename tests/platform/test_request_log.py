from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

LINE = re.compile(
    r"^(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms "
    r"user=(?P<user>\S+) key=(?P<key>\S+) ip=(?P<ip>\S+) request_id=(?P<id>\S+)$"
)


def logged(caplog) -> list[dict]:
    return [
        LINE.match(record.getMessage()).groupdict()
        for record in caplog.records
        if record.name == "targets.request"
    ]


def test_every_response_carries_a_fresh_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("sane", ["abc-123", "trace.id:42_x", "a" * 128, str(uuid.uuid4())])
def test_a_sane_client_request_id_is_kept(client, sane):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=sane)["X-Request-ID"] == sane


@pytest.mark.parametrize(
    "insane", ["has space", "a" * 129, "<script>", "line\nbreak", "ünï", "a;b", ""]
)
def test_an_odd_client_request_id_is_replaced(client, insane):
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=insane)["X-Request-ID"]
    assert answered != insane
    assert re.fullmatch(r"[0-9a-f]{32}", answered)


def test_each_request_is_logged_once_with_method_path_status_duration_user_and_id(
    client_for, make_user, api_client, caplog
):
    caplog.set_level(logging.INFO, logger="targets.request")
    response = api_client.get("/api/v1/items/?page=1", HTTP_X_REQUEST_ID="req-1")
    client_for(make_user("alice")).post("/api/v1/items/", {}, format="json")

    lines = logged(caplog)
    assert len(lines) == 2
    anonymous, alice = lines
    assert anonymous["method"] == "GET"
    assert anonymous["path"] == "/api/v1/items/"
    assert anonymous["status"] == "200"
    assert float(anonymous["ms"]) >= 0
    assert anonymous["user"] == "-"
    assert anonymous["id"] == "req-1" == response["X-Request-ID"]
    assert (alice["method"], alice["status"], alice["user"]) == ("POST", "403", "alice")


def test_error_responses_are_logged_too(api_client, caplog):
    caplog.set_level(logging.INFO, logger="targets.request")
    api_client.get("/api/v1/items/?search=%00")
    api_client.get("/api/missing/")
    statuses = [line["status"] for line in logged(caplog)]
    assert statuses == ["400", "404"]


def test_request_lines_reach_the_rotating_file_under_var_log(api_client):
    handlers = [
        handler
        for handler in logging.getLogger("targets.request").parent.handlers
        if isinstance(handler, logging.handlers.RotatingFileHandler)
    ]
    assert len(handlers) == 1
    handler = handlers[0]
    assert Path(handler.baseFilename) == Path(settings.LOG_DIR) / "targets.log"
    assert Path(settings.LOG_DIR) == Path(settings.BASE_DIR) / "var" / "log"
    assert handler.maxBytes > 0 and handler.backupCount > 0

    marker = f"file-check-{uuid.uuid4().hex}"
    api_client.get("/healthz", HTTP_X_REQUEST_ID=marker)
    handler.flush()
    assert "GET /healthz 200" in Path(handler.baseFilename).read_text().split(marker)[0][-200:]


def test_the_client_address_is_logged_as_the_throttles_see_it(client, caplog, settings):
    caplog.set_level(logging.INFO, logger="targets.request")
    client.get("/healthz", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="6.6.6.6")
    # The throttles' get_ident reads REST_FRAMEWORK's copy (settings.py sets both from the env).
    settings.NUM_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client.get("/healthz", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.8")

    direct, proxied = logged(caplog)
    assert direct["ip"] == "198.51.100.7"  # no proxy trusted: the header is ignored
    assert proxied["ip"] == "198.51.100.8"  # one proxy: the address it saw, not the forged one
