from __future__ import annotations

import json

import pytest

from sensors.models import Reading, ReadingMark
from tests.helpers import assert_error
from tests.sensors.factories import SensorFactory

URL = "/api/v1/readings/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def device(make_user, client_for):
    return client_for(make_user("device", perms=["sensors.add_reading"]))


@pytest.fixture
def sensors():
    return SensorFactory(code="A"), SensorFactory(code="B")


def reading(code="A", timestamp="2026-01-01T00:00:00Z", value=1.5):
    return {"sensor": code, "timestamp": timestamp, "value": value}


def test_a_device_posts_one_reading(device, sensors):
    response = device.post(URL, reading(), format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"received": 1, "created": 1, "duplicates": 0}
    stored = Reading.objects.get()
    assert stored.sensor.code == "A" and stored.value == 1.5
    assert stored.timestamp.isoformat() == "2026-01-01T00:00:00+00:00"


def test_a_batch_is_stored_in_one_go_and_offsets_are_normalised_to_utc(device, sensors):
    batch = [
        reading("A", "2026-01-01T01:00:00+01:00", 1),
        reading("B", "2026-01-01T00:00:00.250Z", 2),
        reading("A", "2026-01-01T00:01:00Z", 3),
    ]
    response = device.post(URL, batch, format="json")
    assert response.status_code == 201
    assert Reading.objects.count() == 3
    assert Reading.objects.filter(sensor__code="A").order_by("timestamp").first().value == 1.0
    # One mark per sensor tells check_thresholds what to evaluate.
    assert ReadingMark.objects.count() == 2


def test_an_offset_with_seconds_is_stored_at_its_utc_instant(device, sensors):
    response = device.post(URL, reading(timestamp="2026-01-02T00:00:00+23:59:59.999999"), "json")
    assert response.status_code == 201, response.content
    stored = Reading.objects.get().timestamp
    assert stored.isoformat() == "2026-01-01T00:00:00.000001+00:00"
    # Pushed past year 1 by its offset: a named 400 on the field, never a 500.
    early = device.post(URL, reading(timestamp="0001-01-01T00:00:00+23:59:59.999999"), "json")
    assert "timestamp" in assert_error(early, 400)["details"]


def test_resending_a_batch_stores_nothing_twice(device, sensors):
    batch = [reading("A", f"2026-01-01T00:0{i}:00Z", i) for i in range(5)]
    assert device.post(URL, batch, format="json").status_code == 201
    again = device.post(URL, [*batch, reading("A", "2026-01-01T00:09:00Z", 9)], format="json")
    assert again.status_code == 201
    assert again.json() == {"received": 6, "created": 1, "duplicates": 5}
    only_old = device.post(URL, batch, format="json")
    assert only_old.status_code == 200 and only_old.json()["created"] == 0
    assert Reading.objects.count() == 6


def test_a_duplicate_inside_one_batch_is_stored_once(device, sensors):
    response = device.post(URL, [reading(value=1), reading(value=2)], format="json")
    assert response.json()["created"] == 1
    assert Reading.objects.count() == 1


def test_ten_thousand_readings_are_accepted(device, sensors):
    batch = [
        {
            "sensor": "A",
            "timestamp": f"2026-01-{1 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
            "value": i * 0.5,
        }
        for i in range(10_000)
    ]
    response = device.post(URL, batch, format="json")
    assert response.status_code == 201, response.content
    assert Reading.objects.count() == 10_000


def test_more_than_ten_thousand_readings_are_refused_and_nothing_is_stored(device, sensors):
    batch = [reading("A", "2026-01-01T00:00:00Z", 1)] * 10_001
    error = assert_error(device.post(URL, batch, format="json"), 413, "batch_too_large")
    assert "10000" in error["message"]
    assert Reading.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        (reading(timestamp="2026-01-01T00:00:00"), "timestamp", "timezone"),
        (reading(timestamp="yesterday"), "timestamp", "ISO-8601"),
        (reading(timestamp=""), "timestamp", "ISO-8601"),
        (reading(timestamp=1767225600), "timestamp", "string"),
        (reading(timestamp="0001-01-01T00:00:00+01:00"), "timestamp", "range"),
        (reading(value=None), "value", "null"),
        (reading(value="1.5"), "value", "number"),
        (reading(value=True), "value", "number"),
        (reading(value=10**400), "value", "range"),
        (reading(code="NOPE"), "sensor", "Unknown sensor"),
        (reading(code=7), "sensor", "string"),
        (reading(code="x" * 10_000), "sensor", "Unknown sensor"),
        ({"sensor": "A", "timestamp": "2026-01-01T00:00:00Z"}, "value", "required"),
        ({**reading(), "id": 3}, "id", "Unknown field"),
        ("not an object", "non_field_errors", "object"),
    ],
)
def test_an_invalid_row_is_a_400_keyed_by_its_index_and_nothing_is_stored(
    device, sensors, row, field, fragment
):
    batch = [reading("A", "2026-01-01T00:00:00Z", 1), row]
    error = assert_error(device.post(URL, batch, format="json"), 400, "validation_error")
    assert list(error["details"]) == ["1"], error
    assert fragment in " ".join(error["details"]["1"][field])
    assert Reading.objects.count() == 0
    assert ReadingMark.objects.count() == 0


def test_a_single_invalid_reading_reports_its_fields(device, sensors):
    response = device.post(URL, reading(timestamp="2026-01-01T00:00:00"), format="json")
    error = assert_error(response, 400, "validation_error")
    assert "timezone" in error["details"]["timestamp"][0]


@pytest.mark.parametrize(
    "body",
    [
        '[{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": NaN}]',
        '[{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": Infinity}]',
        '[{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": -Infinity}]',
        '[{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": 1e999}]',
        '[{"sensor": "A\\u0000", "timestamp": "2026-01-01T00:00:00Z", "value": 1}]',
        "[{",
    ],
)
def test_non_finite_numbers_nul_bytes_and_broken_json_are_refused(device, sensors, body):
    response = device.generic("POST", URL, body.encode(), content_type="application/json")
    assert response.status_code == 400, response.content
    assert_error(response, 400)
    assert Reading.objects.count() == 0


@pytest.mark.parametrize("body", [[], {}, 5, "text", None])
def test_empty_or_wrongly_shaped_bodies_are_400(device, sensors, body):
    response = device.post(URL, json.dumps(body), content_type="application/json")
    assert_error(response, 400)


def test_a_body_over_the_size_limit_is_413(device, sensors, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    batch = [reading("A", "2026-01-01T00:00:00Z", 1)] * 100
    assert_error(device.post(URL, batch, format="json"), 413)


def test_anonymous_writers_get_401(api_client, sensors):
    assert_error(api_client.post(URL, reading(), format="json"), 401)


def test_a_user_without_the_add_reading_permission_gets_403(user_client, sensors):
    assert_error(user_client.post(URL, reading(), format="json"), 403)


def test_posting_readings_is_throttled_with_the_readings_scope(device, sensors, monkeypatch):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "readings": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    for second in range(2):
        row = reading(timestamp=f"2026-01-01T00:00:0{second}Z")
        assert device.post(URL, row, format="json").status_code == 201
    throttled = device.post(URL, reading(), format="json")
    assert_error(throttled, 429)
    assert "Retry-After" in throttled
    # Reads are not counted against the writers' scope.
    assert device.get(URL).status_code == 200


@pytest.mark.postgres
def test_postgresql_ingest_goes_through_copy_and_stays_correct_across_requests(device, sensors):
    for round_ in range(3):
        batch = [reading("A", f"2026-01-01T00:{i:02d}:00Z", round_ * 100 + i) for i in range(50)]
        device.post(URL, batch, format="json")
    assert Reading.objects.count() == 50
    # The first write wins: a re-sent timestamp never overwrites.
    assert Reading.objects.get(timestamp="2026-01-01T00:07:00Z").value == 7
