"""Stats over a long range read hourly rollups, their edges from finer rows: the same numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sensors import selectors
from sensors.services import alerts_evaluate, readings_store
from tests.sensors.factories import SensorFactory

# Starts and ends mid-minute, mid-hour, so every level has unaligned edges.
FIRST = datetime(2026, 3, 1, 6, 13, 20, tzinfo=UTC)
SPAN = timedelta(days=3, hours=5, minutes=7, seconds=13)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def hourly_reads(monkeypatch):
    """Few rollup rows per read, so three days are read at the hour level (as a year would)."""
    monkeypatch.setattr(selectors, "MAX_ROLLUP_ROWS", 100)


@pytest.fixture
def sensor():
    sensor = SensorFactory(code="LONG", high_threshold=None)
    rng = np.random.default_rng(11)
    seconds = np.arange(0, SPAN.total_seconds(), 7)  # a reading every 7 s
    readings_store(
        rows=[
            (sensor.id, FIRST + timedelta(seconds=float(s)), float(v))
            for s, v in zip(seconds, rng.normal(20, 5, seconds.size).round(3), strict=True)
        ]
    )
    alerts_evaluate()  # builds the rollups
    return sensor


def rows(sensor, start, end, bucket):
    return [
        (row.start, row.count, row.min, row.max, pytest.approx(row.mean))
        for row in selectors.stats_for(sensor=sensor, start=start, end=end, bucket=bucket)
    ]


def test_open_range_stats_equal_those_of_the_datas_own_bounds(sensor):
    last = FIRST + timedelta(seconds=7 * ((SPAN.total_seconds() - 1) // 7))
    # With from/to, the partial first and last hours come from minute rollups and raw readings;
    # without, from the hourly rollups alone.
    for bucket in (timedelta(hours=1), timedelta(hours=6), timedelta(days=1)):
        assert rows(sensor, None, None, bucket) == rows(sensor, FIRST, last, bucket)


def test_stats_from_hourly_rollups_with_unaligned_edges_equal_the_raw_readings(sensor):
    start = FIRST + timedelta(hours=1, minutes=17, seconds=31)
    end = FIRST + timedelta(days=2, hours=3, seconds=5)
    # Thirty-second buckets are no whole number of minutes: read from raw readings only.
    raw = rows(sensor, start, end, timedelta(seconds=30))
    hourly = rows(sensor, start, end, timedelta(hours=1))
    assert sum(count for _, count, *_ in raw) == sum(count for _, count, *_ in hourly)
    for hour_start, count, low, high, _ in hourly:
        inside = [
            row for row in raw if hour_start <= row[0] < hour_start + timedelta(hours=1) and row[1]
        ]
        assert count == sum(row[1] for row in inside)
        if count:
            assert low == min(row[2] for row in inside)
            assert high == max(row[3] for row in inside)


def test_each_bucket_start_is_written_as_the_datetime_field_writes_it(sensor):
    from rest_framework.fields import DateTimeField

    field = DateTimeField()
    buckets = selectors.stats_for(sensor=sensor, start=None, end=None, bucket=timedelta(hours=1))
    assert len(buckets) > 70
    assert [b.start_text for b in buckets] == [field.to_representation(b.start) for b in buckets]
