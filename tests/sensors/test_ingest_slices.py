"""Readings are checked in slices while they stream into the database: every outcome is still
the whole batch's (all stored, or a 400 naming each bad row and nothing stored)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from sensors.models import Reading, ReadingMark
from sensors.services import ingest
from tests.helpers import assert_error
from tests.sensors.factories import SensorFactory

URL = "/api/v1/readings/"
START = datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def device(make_user, client_for):
    return client_for(make_user("device", perms=["sensors.add_reading"]))


@pytest.fixture
def sensor():
    return SensorFactory(code="A")


def batch(first: int, count: int, *, code: str = "A") -> list[dict]:
    """Readings one second apart from START + ``first`` seconds."""
    return [
        {
            "sensor": code,
            "timestamp": (START + timedelta(seconds=first + i)).isoformat(),
            "value": (first + i) * 0.5,
        }
        for i in range(count)
    ]


@pytest.fixture(autouse=True)
def small_slices(monkeypatch):
    """Slices of 100, so a few hundred readings cross several slice boundaries."""
    monkeypatch.setattr(ingest, "_STREAM_CHUNK", 100)


def test_a_bad_row_in_a_late_slice_is_a_400_and_nothing_of_the_earlier_slices_is_kept(
    device, sensor
):
    readings = batch(0, 450)
    readings[420]["value"] = "hot"
    error = assert_error(device.post(URL, readings, format="json"), 400, "validation_error")
    assert list(error["details"]) == ["420"]
    assert "number" in error["details"]["420"]["value"][0]
    assert Reading.objects.count() == 0
    assert ReadingMark.objects.count() == 0


def test_bad_rows_in_several_slices_are_all_named(device, sensor):
    readings = batch(0, 450)
    readings[5]["timestamp"] = "2026-01-01T00:00:00"
    readings[333]["sensor"] = "NOPE"
    error = assert_error(device.post(URL, readings, format="json"), 400, "validation_error")
    assert sorted(error["details"], key=int) == ["5", "333"]
    assert Reading.objects.count() == 0


def test_a_valid_row_the_fast_check_leaves_to_the_rules_stores_the_whole_batch(device, sensor):
    readings = batch(0, 450)
    # Year 1 is in the calendar but left to the rules (its move to UTC could leave it).
    readings[300]["timestamp"] = "0001-01-02T00:00:00+00:00"
    response = device.post(URL, readings, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"received": 450, "created": 450, "duplicates": 0}
    assert Reading.objects.count() == 450
    assert Reading.objects.filter(timestamp__year=1).count() == 1


def test_a_batch_overlapping_stored_readings_across_slices_stores_only_the_new_ones(device, sensor):
    assert device.post(URL, batch(0, 250), format="json").status_code == 201
    response = device.post(URL, batch(150, 350), format="json")
    assert response.status_code == 201
    assert response.json() == {"received": 350, "created": 250, "duplicates": 100}
    assert Reading.objects.count() == 500
    # The first write wins: a re-sent timestamp keeps its stored value.
    assert Reading.objects.get(timestamp=START + timedelta(seconds=200)).value == 100.0


def test_a_batch_of_several_sensors_across_slices_is_stored_with_one_mark_each(device, sensor):
    SensorFactory(code="B")
    readings = batch(0, 300) + batch(0, 300, code="B")
    response = device.post(URL, readings, format="json")
    assert response.json()["created"] == 600
    marks = {
        mark.sensor.code: (mark.min_timestamp, mark.max_timestamp)
        for mark in ReadingMark.objects.select_related("sensor")
    }
    assert marks == {code: (START, START + timedelta(seconds=299)) for code in ("A", "B")}


def _rows_per_partition() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, COUNT(*) FROM sensors_reading GROUP BY 1")
        return dict(cursor.fetchall())


@pytest.mark.postgres
def test_a_batch_spanning_two_months_lands_in_both_monthly_partitions(device, sensor):
    from sensors.services.retention import readings_partitions_ensure

    readings_partitions_ensure(now=START, ahead=1)  # January and February 2026
    # 23:00 on January 31st plus 7,200 seconds: one hour in each month.
    response = device.post(URL, batch(0, 7_200), format="json")
    assert response.status_code == 201
    assert _rows_per_partition() == {
        "sensors_reading_p202601": 3_600,
        "sensors_reading_p202602": 3_600,
    }
    mark = ReadingMark.objects.get()
    assert (mark.min_timestamp, mark.max_timestamp) == (START, START + timedelta(seconds=7_199))


@pytest.mark.postgres
def test_the_readings_table_has_only_the_indexes_every_read_needs():
    # Each index is written by every ingested row: (sensor, timestamp) serves every lookup by
    # sensor, so no index on the sensor alone is kept.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'sensors_reading' ORDER BY 1"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert definitions == [
        "CREATE UNIQUE INDEX reading_sensor_time_uniq ON ONLY public.sensors_reading "
        'USING btree (sensor_id, "timestamp")',
        "CREATE UNIQUE INDEX sensors_reading_pkey ON ONLY public.sensors_reading "
        'USING btree (id, "timestamp")',
    ]
