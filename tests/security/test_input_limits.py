"""Bounded input: page sizes, batch sizes, body sizes, NUL bytes anywhere."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import ApiKey
from exports.models import Export, ExportSchedule
from notifications.models import NotificationChannel
from sensors.models import Alert, Reading, Sensor
from tests.games.factories import bot_payload
from tests.helpers import assert_error
from tests.items.factories import ItemFactory
from tests.security.conftest import list_operations, write_operations

pytestmark = pytest.mark.django_db

LISTS = list_operations()
WRITES = write_operations()


@pytest.fixture
def sensor(db) -> Sensor:
    return Sensor.objects.create(code="A", name="A", unit="C", high_threshold=65)


@pytest.fixture
def device_client(client_for, make_user):
    return client_for(make_user("device", perms=["sensors.add_reading"]))


@pytest.fixture
def root_client(client_for, make_user, sensor):
    """A superuser (every permission), with a row numbered 1 for every ``{id}`` path to land on."""
    ItemFactory(pk=1)
    Alert.objects.create(
        pk=1, sensor=sensor, kind="high", opened_at=timezone.now(), peak_value=70, reading_count=1
    )
    Export.objects.create(pk=1, dataset="items", format="csv", fingerprint="one")
    ExportSchedule.objects.create(pk=1, name="nightly", dataset="items", next_run_at=timezone.now())
    NotificationChannel.objects.create(
        pk=1, name="ops", kind="email", target="ops@example.com", events=["alert.opened"]
    )
    root = make_user("root", is_staff=True, is_superuser=True)
    ApiKey.objects.create(pk=1, owner=root, name="k", prefix="tgt_00000000", hash="0" * 64)
    return client_for(root)


@pytest.mark.parametrize("operation", LISTS, ids=str)
@pytest.mark.parametrize("size", ["501", "1000000", "9" * 5000])
def test_a_huge_page_size_is_clamped_on_every_list(staff_client, sensor, operation, size):
    response = staff_client.get(operation.url(code="A"), {"page_size": size})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) <= 500


def test_a_huge_page_size_returns_exactly_500_readings(api_client, sensor):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    Reading.objects.bulk_create(
        Reading(sensor=sensor, timestamp=start + dt.timedelta(seconds=n), value=20.0)
        for n in range(501)
    )
    body = api_client.get("/api/v1/readings/", {"page_size": 10**9}).json()
    assert body["count"] == 501
    assert len(body["results"]) == 500


def test_a_reading_batch_over_10000_is_a_413_and_stores_nothing(device_client, sensor):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch = [
        {"sensor": "A", "timestamp": (start + dt.timedelta(seconds=n)).isoformat(), "value": 1.0}
        for n in range(10_001)
    ]
    response = device_client.post("/api/v1/readings/", batch, format="json")
    assert_error(response, 413, "batch_too_large")
    assert not Reading.objects.exists()


def test_more_than_1000_shots_is_a_400(client_for, make_user):
    body = bot_payload()
    body["shots"] = [{"x": 0.0, "y": 0.0, "hit": False, "ring": None}] * 1001
    response = client_for(make_user("p")).post("/api/v1/scores/", body, format="json")
    error = assert_error(response, 400)
    assert "shots" in error["details"]


@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_a_body_over_the_upload_limit_is_a_413_on_every_write_endpoint(root_client, operation):
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps({"name": padding})
    url = operation.url(id=1, code="A", alert_id=1)
    response = root_client.generic(operation.method, url, body, content_type="application/json")
    if not operation.takes_body:
        assert response.status_code in (200, 204), response.content  # the body is never read
        return
    assert_error(response, 413, "payload_too_large")


def test_a_lying_content_length_is_not_trusted(staff_client):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "price": "1"})
    response = staff_client.generic(
        "POST", "/api/v1/items/", body, content_type="application/json", CONTENT_LENGTH="10"
    )
    # Django reads CONTENT_LENGTH bytes: the body is cut to 10 bytes, which is not JSON.
    assert_error(response, 400, "parse_error")


# --- NUL bytes: PostgreSQL text cannot hold them, so each must be a 4xx before any query --------


@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_a_nul_character_in_a_json_body_is_a_400_on_every_write_endpoint(root_client, operation):
    body = '{"name": "bad\\u0000name", "code": "A\\u0000", "sensor": "A\\u0000"}'
    url = operation.url(id=1, code="A", alert_id=1)
    response = root_client.generic(operation.method, url, body, content_type="application/json")
    if not operation.takes_body:
        assert response.status_code in (200, 204), response.content  # the body is never read
        return
    assert_error(response, 400, "parse_error")


def test_a_nul_character_in_a_json_key_is_a_400(staff_client):
    body = '{"na\\u0000me": "Lamp", "price": "1.00"}'
    response = staff_client.generic("POST", "/api/v1/items/", body, content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("operation", LISTS, ids=str)
@pytest.mark.parametrize("query", ["search=a%00b", "page=1%00", "sensor=A%00", "x%00=1"])
def test_a_nul_byte_in_a_query_parameter_is_a_400_on_every_list(
    staff_client, sensor, operation, query
):
    response = staff_client.get(f"{operation.url(code='A')}?{query}")
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/items/1%00/",
        "/api/v1/sensors/A%00/",
        "/api/v1/sensors/A%00/stats/",
        "/api/v1/sensors/A%00/plot.png",
        "/api/v1/leaderboards/bull%00seye/",
        "/api/v1/scores/1%00/",
        "/api/v1/exports/1%00/",
        "/api/v1/%00/",
    ],
)
def test_a_nul_byte_in_a_path_value_is_a_4xx_in_the_json_shape(staff_client, sensor, url):
    response = staff_client.get(url)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


def test_a_nul_byte_in_a_leaderboard_query_is_a_400(api_client):
    assert_error(api_client.get("/api/v1/leaderboards/bullseye/?period=all%00"), 400)


@pytest.mark.parametrize("payload", ["\x00", "abc\x00"])
def test_a_nul_in_the_login_form_is_a_400(api_client, payload):
    body = json.dumps({"username": payload, "password": payload})
    response = api_client.generic(
        "POST", "/api/v1/auth/token/", body, content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_a_raw_nul_byte_in_a_body_that_is_not_escaped_is_a_400(staff_client):
    response = staff_client.generic(
        "POST", "/api/v1/items/", b'{"name": "a\x00b"}', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")
