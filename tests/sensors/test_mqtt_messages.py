"""What the MQTT worker makes of a batch of messages: stored readings, or reasons to reject.

The broker and the worker process are exercised in ``test_mqtt_worker.py``; here a batch of
deliveries goes straight through ``batch_store``, on each database the suite runs on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sensors.models import Reading
from sensors.mqtt import Delivery, MqttIngestConfig, batch_store, error_report
from tests.sensors.factories import SensorFactory

pytestmark = pytest.mark.django_db

CONFIG = MqttIngestConfig(
    host="127.0.0.1",
    port=1883,
    username=None,
    password=None,
    tls=False,
    ca_file=None,
    client_id="test",
    topic_prefix="site1/targets",
    shared_group="",
    batch_size=1000,
    batch_seconds=0.1,
    session_expiry=60,
)


def delivery(code: str, payload: object, mid: int = 1) -> Delivery:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Delivery(mid, 1, f"site1/targets/readings/{code}", raw, connection=0)


def reading(second: int, value: float = 1.0) -> dict:
    return {"timestamp": f"2026-01-01T00:00:{second:02d}Z", "value": value}


def test_one_reading_or_a_list_per_message_is_stored_for_the_topics_sensor():
    sensor = SensorFactory(code="boiler.1")
    result = batch_store(
        [delivery("boiler.1", reading(0, 20.5)), delivery("boiler.1", [reading(1), reading(2)])],
        config=CONFIG,
    )
    assert (result.created, len(result.stored), result.rejected) == (3, 2, [])
    assert list(
        Reading.objects.filter(sensor=sensor).order_by("timestamp").values_list("value", flat=True)
    ) == [20.5, 1.0, 1.0]


def test_a_bad_message_is_rejected_with_its_reason_and_the_good_ones_beside_it_are_stored():
    sensor = SensorFactory(code="A")
    bad = {"timestamp": "2026-01-01T00:00:09", "value": "hot"}
    result = batch_store(
        [delivery("A", reading(0)), delivery("A", bad, mid=2), delivery("A", reading(1), mid=3)],
        config=CONFIG,
    )
    assert Reading.objects.filter(sensor=sensor).count() == 2
    [rejected] = result.rejected
    assert rejected.delivery.mid == 2
    assert rejected.error.code == "validation_error"
    assert set(rejected.error.details) == {"timestamp", "value"}
    assert "timezone" in rejected.error.details["timestamp"][0]


def test_a_list_with_one_bad_row_is_rejected_whole_with_per_row_errors_like_the_api():
    SensorFactory(code="A")
    result = batch_store(
        [delivery("A", [reading(0), {"timestamp": "x", "value": 1}])], config=CONFIG
    )
    [rejected] = result.rejected
    assert rejected.error.details[0] == {}
    assert list(rejected.error.details[1]) == ["timestamp"]
    assert Reading.objects.count() == 0


def test_a_message_for_an_unknown_sensor_is_a_not_found_error():
    result = batch_store([delivery("ghost", reading(0))], config=CONFIG)
    [rejected] = result.rejected
    assert (rejected.code, rejected.error.code) == ("ghost", "not_found")
    assert "ghost" in rejected.error.message


@pytest.mark.parametrize(
    ("payload", "code", "says"),
    [
        (b"not json", "parse_error", "JSON parse error"),
        (b'{"timestamp": "2026-01-01T00:00:00Z", "value": NaN}', "parse_error", "NaN"),
        (b"\xff\xfe", "parse_error", "JSON parse error"),
        (b"42", "validation_error", "one reading object or a list"),
        (b"[]", "validation_error", "empty"),
    ],
)
def test_a_payload_that_is_not_readings_is_rejected_with_a_named_code(payload, code, says):
    SensorFactory(code="A")
    [rejected] = batch_store([delivery("A", payload)], config=CONFIG).rejected
    assert rejected.error.code == code
    assert says in rejected.error.message + json.dumps(rejected.error.details)


def test_a_reading_may_not_name_another_sensor_than_its_topic():
    SensorFactory(code="A")
    SensorFactory(code="B")
    [rejected] = batch_store([delivery("A", {"sensor": "B", **reading(0)})], config=CONFIG).rejected
    assert "topic names the sensor" in rejected.error.details["sensor"][0]
    assert Reading.objects.count() == 0


def test_more_than_ten_thousand_readings_in_one_message_is_batch_too_large():
    SensorFactory(code="A")
    rows = [{"timestamp": f"2026-01-01T00:00:00.{n:06d}Z", "value": 1} for n in range(10_001)]
    [rejected] = batch_store([delivery("A", rows)], config=CONFIG).rejected
    assert rejected.error.code == "batch_too_large"


def test_a_redelivered_message_stores_nothing_twice():
    sensor = SensorFactory(code="A")
    first = batch_store([delivery("A", [reading(0), reading(1)])], config=CONFIG)
    again = batch_store(
        [delivery("A", [reading(0), reading(1)]), delivery("A", [reading(1), reading(2)])],
        config=CONFIG,
    )
    assert (first.created, again.created) == (2, 1)
    assert Reading.objects.filter(sensor=sensor).count() == 3


def test_the_error_report_carries_the_api_error_shape_and_where_the_message_came_from():
    [rejected] = batch_store([delivery("ghost", reading(0))], config=CONFIG).rejected
    report = json.loads(error_report(rejected))
    assert report["error"] == {
        "code": "not_found",
        "message": "No sensor with code 'ghost'.",
        "details": {},
    }
    assert report["topic"] == "site1/targets/readings/ghost"
    assert json.loads(report["payload"]) == reading(0)
    assert datetime.fromisoformat(report["received_at"]).tzinfo == UTC
    assert CONFIG.error_topic(rejected.code) == "site1/targets/errors/ghost"


def test_a_shared_group_subscribes_through_the_share_prefix():
    shared = MqttIngestConfig(**{**CONFIG.__dict__, "shared_group": "ingest"})
    assert CONFIG.subscription == "site1/targets/readings/+"
    assert shared.subscription == "$share/ingest/site1/targets/readings/+"
