from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from sensors import selectors
from sensors.models import Reading, ReadingRollup
from sensors.rollups import HOUR, MINUTE, level_for, rollup
from sensors.services import alerts_evaluate, readings_store
from tests.sensors.factories import SensorFactory

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_rollup_summarises_each_bucket_with_readings():
    t = np.array([0.0, 30.0, 59.0, 61.0, 200.0])
    v = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    summary = rollup(t, v, width=MINUTE)
    assert summary.start.tolist() == [0.0, 60.0, 180.0]
    assert summary.count.tolist() == [3, 1, 1]
    assert summary.min.tolist() == [1.0, 5.0, 4.0]
    assert summary.max.tolist() == [3.0, 5.0, 4.0]
    assert summary.sum.tolist() == [6.0, 5.0, 4.0]
    assert summary.first.tolist() == [3.0, 5.0, 4.0]
    assert summary.last.tolist() == [2.0, 5.0, 4.0]


def test_the_level_is_the_finest_dividing_the_bucket_that_fits():
    assert level_for(bucket_seconds=3600, span_seconds=86_400, max_rows=50_000) == MINUTE
    assert level_for(bucket_seconds=3600, span_seconds=86_400 * 365, max_rows=50_000) == HOUR
    assert level_for(bucket_seconds=90, span_seconds=86_400, max_rows=50_000) is None
    assert level_for(bucket_seconds=30, span_seconds=600, max_rows=50_000) is None


def _store_seconds(sensor, start: datetime, values) -> None:
    readings_store(
        rows=[(sensor.id, start + timedelta(seconds=i), float(v)) for i, v in enumerate(values)]
    )


def _stats(sensor, start, end, bucket):
    return [
        (row.start, row.count, row.min, row.max, pytest.approx(row.mean))
        for row in selectors.stats_for(sensor=sensor, start=start, end=end, bucket=bucket)
    ]


@pytest.mark.django_db
def test_a_late_reading_updates_its_rollup():
    sensor = SensorFactory(code="R", high_threshold=None)
    _store_seconds(sensor, T0, range(120))
    alerts_evaluate()
    hour = ReadingRollup.objects.get(sensor=sensor, level=HOUR)
    assert (hour.count, hour.min, hour.max, hour.sum) == (120, 0, 119, sum(range(120)))
    assert (hour.first, hour.last) == (0, 119)
    readings_store(rows=[(sensor.id, T0 - timedelta(seconds=1), -7.0)])  # late, an hour before
    readings_store(rows=[(sensor.id, T0 + timedelta(seconds=150), 500.0)])  # late, in the hour
    alerts_evaluate()
    hour = ReadingRollup.objects.get(sensor=sensor, level=HOUR, bucket_start=T0)
    assert (hour.count, hour.max, hour.last) == (121, 500.0, 500.0)
    earlier = ReadingRollup.objects.get(sensor=sensor, level=MINUTE, bucket_start__lt=T0)
    assert (earlier.count, earlier.first) == (1, -7.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (T0 + timedelta(seconds=17), T0 + timedelta(hours=7, minutes=20, seconds=3)),
        # Open sides are bounded by the rollups and the readings not rolled up yet.
        (None, None),
        (T0 + timedelta(minutes=30, seconds=1), None),
        (None, T0 + timedelta(hours=3, seconds=59)),
    ],
)
@pytest.mark.parametrize("bucket", [timedelta(hours=1), timedelta(seconds=45)])
def test_stats_from_rollups_equal_stats_from_raw_readings_with_unrolled_hours_mixed_in(
    start, end, bucket
):
    sensor = SensorFactory(code="R", high_threshold=None)
    rng = np.random.default_rng(7)
    _store_seconds(sensor, T0, rng.normal(20, 5, 6 * 3600).round(3))
    alerts_evaluate()
    # Not yet rolled up: a later hour, a late reading inside a rolled-up one, and one before
    # everything rolled up (an open start must reach it).
    _store_seconds(sensor, T0 + timedelta(hours=7), rng.normal(20, 5, 1800).round(3))
    readings_store(rows=[(sensor.id, T0 + timedelta(hours=2, seconds=0.5), 99.0)])
    readings_store(rows=[(sensor.id, T0 - timedelta(minutes=3, seconds=0.25), -40.0)])
    if bucket < timedelta(hours=1) and start is None and end is None:
        end = T0 + timedelta(hours=2, minutes=30)  # 45 s buckets: fewer than the limit
    rolled = _stats(sensor, start, end, bucket)
    # The simple path: every raw reading in the range, resampled by pandas.
    rows = Reading.objects.filter(sensor=sensor)
    if start is not None:
        rows = rows.filter(timestamp__gte=start)
    if end is not None:
        rows = rows.filter(timestamp__lte=end)
    frame = pd.DataFrame(list(rows.values_list("timestamp", "value")), columns=["t", "v"])
    grouped = frame.set_index("t")["v"].resample(bucket, origin="epoch")
    expected = [
        (moment.to_pydatetime(), int(count), low, high, pytest.approx(mean))
        if count
        else (moment.to_pydatetime(), 0, None, None, pytest.approx(None))
        for moment, count, low, high, mean in zip(
            grouped.count().index,
            grouped.count(),
            grouped.min(),
            grouped.max(),
            grouped.mean(),
            strict=True,
        )
    ]
    assert rolled == expected
    assert any(row[3] == 99.0 for row in rolled)
    assert any(row[2] == -40.0 for row in rolled) == (start is None)


@pytest.mark.django_db
def test_stats_and_plots_over_pruned_raw_readings_still_come_from_the_rollups(api_client):
    sensor = SensorFactory(code="R", high_threshold=30)
    rng = np.random.default_rng(3)
    _store_seconds(sensor, T0, rng.normal(20, 5, 4 * 3600).round(3))
    alerts_evaluate()
    params = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T04:00:00Z", "bucket": "1h"}
    before = api_client.get("/api/v1/sensors/R/stats/", params).json()
    Reading.objects.filter(sensor=sensor).delete()
    after = api_client.get("/api/v1/sensors/R/stats/", params).json()
    assert [row["count"] for row in after] == [3600] * 4
    assert after == before
    whole = api_client.get("/api/v1/sensors/R/stats/", {"bucket": "1h"}).json()
    assert whole == before
    plot = api_client.get("/api/v1/sensors/R/plot.png", {"width": 400})
    assert plot.status_code == 200
    series, _, _ = selectors.plot_series_for(sensors=[sensor], start=None, end=None, columns=400)
    assert series[0].t.size > 0 and 0 < series[0].breach_t.size <= 800
