"""Per-bucket summaries of a time series (count, min, max, sum, first and last value).

Pure: numpy arrays in, numpy arrays out. The service feeds it the raw readings of whole hours and
stores the result per minute and per hour; stats and plots then read those rows instead of the raw
readings, so their cost follows the number of buckets, not the number of readings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MINUTE = 60
HOUR = 3600
LEVELS = (MINUTE, HOUR)  # finest first


@dataclass(frozen=True)
class Rollup:
    """Columns of one level's buckets in time order; ``start`` in seconds since the epoch."""

    start: np.ndarray
    count: np.ndarray
    min: np.ndarray
    max: np.ndarray
    sum: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def __len__(self) -> int:
        return int(self.start.size)


def rollup(t: np.ndarray, v: np.ndarray, *, width: int) -> Rollup:
    """Summarise ``v`` per ``width``-second bucket aligned on the epoch; ``t`` ascending seconds.

    Only buckets holding readings are returned (a gap is a missing row, not a zero row).
    """
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if t.size == 0:
        empty = np.empty(0)
        return Rollup(empty, np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty)
    bucket = np.floor(t / width) * width
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    ends = np.concatenate((starts[1:], [t.size]))
    return Rollup(
        start=bucket[starts],
        count=(ends - starts).astype(np.int64),
        min=np.minimum.reduceat(v, starts),
        max=np.maximum.reduceat(v, starts),
        sum=np.add.reduceat(v, starts),
        first=v[starts],
        last=v[ends - 1],
    )


def level_for(*, bucket_seconds: float, span_seconds: float, max_rows: int) -> int | None:
    """The finest rollup level that divides ``bucket_seconds`` and keeps the rows to read within
    ``max_rows`` over ``span_seconds`` (else the coarsest that divides); None if none divides."""
    dividing = [level for level in LEVELS if bucket_seconds % level == 0]
    if not dividing:
        return None
    for level in dividing:
        if span_seconds / level <= max_rows:
            return level
    return dividing[-1]
