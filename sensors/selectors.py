"""Non-trivial reads: time ranges, breach points, pandas statistics and plot data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.db import connection
from django.db.models import Case, CharField, QuerySet, Value, When

from sensors.decimation import StreamingDecimator
from sensors.models import Alert, Reading, Sensor
from sensors.plotting import PlotSeries
from targets_site.errors import InvalidInput

MAX_STAT_BUCKETS = 10_000
_FETCH_CHUNK = 100_000


def readings_in_range(
    *, start: datetime | None = None, end: datetime | None = None, sensor: Sensor | None = None
) -> QuerySet[Reading]:
    readings = Reading.objects.all()
    if sensor is not None:
        readings = readings.filter(sensor=sensor)
    if start is not None:
        readings = readings.filter(timestamp__gte=start)
    if end is not None:
        readings = readings.filter(timestamp__lte=end)
    return readings


def reading_rows_estimate() -> int:
    """PostgreSQL's estimate of the readings table's rows (and its partitions'); -1 if unknown.

    ``reltuples`` is -1 for a table never vacuumed or analysed, and a partitioned parent holds no
    rows itself: its partitions' estimates are summed.
    """
    table = Reading._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(GREATEST(c.reltuples, 0)), 0)::bigint, "
            "BOOL_OR(c.reltuples >= 0) FROM pg_class c "
            # Only tables that hold rows: ANALYZE of a partitioned parent also sets its own
            # reltuples to the total, which would count every row twice.
            "WHERE c.relkind = 'r' AND (c.oid = %s::regclass "
            "OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass))",
            [table, table],
        )
        total, known = cursor.fetchone()
    return int(total) if known else -1


def breaches_for(
    *, sensor: Sensor, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Reading]:
    """The sensor's readings beyond a threshold, with their ``kind``, oldest first."""
    breach = sensor.breach_q()
    readings = readings_in_range(sensor=sensor, start=start, end=end)
    if breach is None:
        return readings.none()
    whens = []
    if sensor.high_threshold is not None:
        whens.append(When(value__gt=sensor.high_threshold, then=Value("high")))
    if sensor.low_threshold is not None:
        whens.append(When(value__lt=sensor.low_threshold, then=Value("low")))
    return (
        readings.filter(breach)
        .annotate(kind=Case(*whens, output_field=CharField()))
        .order_by("timestamp")
    )


def alerts_for(
    *,
    sensor: Sensor,
    start: datetime | None = None,
    end: datetime | None = None,
    is_open: bool | None = None,
) -> QuerySet[Alert]:
    """Alerts whose episode overlaps ``[start, end]``, newest first."""
    alerts = Alert.objects.filter(sensor=sensor).select_related("sensor", "acknowledged_by")
    if end is not None:
        alerts = alerts.filter(opened_at__lte=end)
    if start is not None:
        alerts = alerts.exclude(closed_at__lt=start)
    if is_open is not None:
        alerts = alerts.filter(closed_at__isnull=is_open)
    return alerts.order_by("-opened_at", "-id")


def _epoch_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::float8"
    return f"(julianday({column}) - 2440587.5) * 86400.0"


def _fetch_chunks(
    sensor: Sensor, start: datetime | None, end: datetime | None
) -> Iterator[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """(seconds, values) numpy chunks in time order, from a raw cursor: no model instances."""
    table = Reading._meta.db_table
    where = ["sensor_id = %s"]
    params: list[int | str | None] = [sensor.id]
    adapt = connection.ops.adapt_datetimefield_value
    if start is not None:
        where.append("timestamp >= %s")
        params.append(adapt(start))
    if end is not None:
        where.append("timestamp <= %s")
        params.append(adapt(end))
    sql = (
        f"SELECT {_epoch_sql('timestamp')}, value FROM {table} "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY timestamp"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_FETCH_CHUNK):
            array = np.array(rows, dtype=np.float64)
            seconds = array[:, 0]
            if connection.vendor != "postgresql":
                # julianday() arithmetic is off by microseconds; SQLite keeps ms at best anyway,
                # and a reading at 12:00:00 must not fall into the 11:00 bucket.
                seconds = np.round(seconds, 3)
            yield seconds, array[:, 1]


def _data_bounds(
    sensor: Sensor, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime] | None:
    readings = readings_in_range(sensor=sensor, start=start, end=end).order_by("timestamp")
    first = start or readings.values_list("timestamp", flat=True).first()
    last = end or readings.order_by("-timestamp").values_list("timestamp", flat=True).first()
    if first is None or last is None:
        return None
    return first, last


def plot_series_for(
    *, sensors: list[Sensor], start: datetime | None, end: datetime | None, columns: int
) -> tuple[list[PlotSeries], datetime | None, datetime | None]:
    """Each sensor's series decimated to ``columns`` pixel columns, with every breach point.

    Readings are streamed in chunks and decimated as they come, so memory is bounded by the chunk
    size and the number of columns (plus the breach points, which are all kept).
    """
    bounds = [b for b in (_data_bounds(s, start, end) for s in sensors) if b is not None]
    if not bounds:
        return (
            [
                PlotSeries(
                    s.code,
                    s.name,
                    s.unit,
                    np.empty(0),
                    np.empty(0),
                    low=s.low_threshold,
                    high=s.high_threshold,
                )
                for s in sensors
            ],
            start,
            end,
        )
    first = start or min(b[0] for b in bounds)
    last = end or max(b[1] for b in bounds)
    series = []
    for sensor in sensors:
        decimator = StreamingDecimator(
            start=first.timestamp(),
            end=last.timestamp(),
            columns=columns,
            low=sensor.low_threshold,
            high=sensor.high_threshold,
        )
        for t, v in _fetch_chunks(sensor, first, last):
            decimator.feed(t, v)
        t, v = decimator.series
        breach_t, breach_v = decimator.breaches
        series.append(
            PlotSeries(
                sensor.code,
                sensor.name,
                sensor.unit,
                t,
                v,
                breach_t,
                breach_v,
                low=sensor.low_threshold,
                high=sensor.high_threshold,
            )
        )
    return series, first, last


@dataclass(frozen=True)
class StatBucket:
    start: datetime
    count: int
    min: float | None
    max: float | None
    mean: float | None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CALENDAR_START = datetime(1, 1, 1, tzinfo=UTC)


def _check_bucket_calendar(first: datetime, bucket: timedelta) -> None:
    """Buckets are aligned on the Unix epoch; the one holding ``first`` must start in year 1+."""
    if first - _CALENDAR_START >= bucket:
        return
    aligned = (first - _EPOCH) // bucket
    if -aligned * bucket > _EPOCH - _CALENDAR_START:
        raise InvalidInput(
            "The first bucket of this range would start before the year 1 (buckets are "
            "aligned on 1970-01-01). Use a smaller bucket or a later 'from'.",
            code="bucket_before_calendar",
            details={"bucket": ["Too large for readings this early."]},
        )


def stats_for(
    *, sensor: Sensor, start: datetime | None, end: datetime | None, bucket: timedelta
) -> list[StatBucket]:
    """count/min/max/mean per ``bucket`` with pandas resample; empty buckets have count 0."""
    bounds = _data_bounds(sensor, start, end)
    if bounds is None:
        return []
    first, last = bounds
    buckets = (last - first) / bucket
    if buckets > MAX_STAT_BUCKETS:
        raise InvalidInput(
            f"This range and bucket make {int(buckets):,} buckets; at most {MAX_STAT_BUCKETS:,}. "
            "Use a larger bucket or a shorter range.",
            code="too_many_buckets",
            details={"bucket": ["Too small for this range."]},
        )
    _check_bucket_calendar(first, bucket)
    # Aggregate chunk by chunk so memory stays flat: partial count/sum/min/max per bucket merge.
    frames = []
    for t, v in _fetch_chunks(sensor, first, last):
        index = pd.to_datetime(t, unit="s", utc=True)
        frame = (
            pd.Series(v, index=index)
            .resample(bucket, origin="epoch")
            .agg(["count", "sum", "min", "max"])
        )
        frames.append(frame)
    if not frames:
        return []
    merged = (
        pd.concat(frames)
        .groupby(level=0)
        .agg({"count": "sum", "sum": "sum", "min": "min", "max": "max"})
    )
    merged = merged.resample(bucket, origin="epoch").agg(
        {"count": "sum", "sum": "sum", "min": "min", "max": "max"}
    )
    result = []
    for moment, row in merged.iterrows():
        count = int(row["count"])
        result.append(
            StatBucket(
                start=moment.to_pydatetime(),
                count=count,
                min=float(row["min"]) if count else None,
                max=float(row["max"]) if count else None,
                mean=float(row["sum"] / count) if count else None,
            )
        )
    return result
