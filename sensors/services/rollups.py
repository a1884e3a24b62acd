"""Keeping the per-minute and per-hour rollups current (run by check_thresholds, under its lock).

Every batch of readings leaves a ReadingMark (first and last timestamp). For each mark, every
whole hour it touches is recomputed from the raw readings and its rollup rows replaced: late
readings and re-sent ones need no special case, and ingest stays a single COPY.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np

from sensors.models import ReadingRollup
from sensors.rollups import HOUR, LEVELS, rollup
from sensors.selectors import fetch_readings, hour_spans

_HOURS_PER_PASS = 24 * 7  # raw readings held at once: a week (605k at 1 Hz)


def rollups_refresh(*, sensor_id: int, spans: Iterable[tuple[datetime, datetime]]) -> int:
    """Recompute the rollups of every whole hour touched by ``spans`` (inclusive); rows written."""
    written = 0
    for start, end in hour_spans(spans):
        step = timedelta(seconds=HOUR * _HOURS_PER_PASS)
        while start < end:
            stop = min(start + step, end)
            written += _refresh_hours(sensor_id, start, stop)
            start = stop
    return written


def _refresh_hours(sensor_id: int, start: datetime, stop: datetime) -> int:
    chunks = list(fetch_readings(sensor_id, start, stop, end_inclusive=False))
    t = np.concatenate([c[0] for c in chunks]) if chunks else np.empty(0)
    v = np.concatenate([c[1] for c in chunks]) if chunks else np.empty(0)
    rows: list[ReadingRollup] = []
    for level in LEVELS:
        summary = rollup(t, v, width=level)
        rows.extend(
            ReadingRollup(
                sensor_id=sensor_id,
                level=level,
                bucket_start=datetime.fromtimestamp(float(summary.start[i]), UTC),
                count=int(summary.count[i]),
                min=float(summary.min[i]),
                max=float(summary.max[i]),
                sum=float(summary.sum[i]),
                first=float(summary.first[i]),
                last=float(summary.last[i]),
            )
            for i in range(len(summary))
        )
    ReadingRollup.objects.filter(
        sensor_id=sensor_id, bucket_start__gte=start, bucket_start__lt=stop
    ).delete()
    ReadingRollup.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)
