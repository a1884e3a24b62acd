"""Min/max decimation per pixel column, so a plot of any length draws a bounded number of points.

A line plot cannot show more than one vertical stroke per pixel column; keeping each column's
minimum and maximum (in their time order) draws exactly the same picture as the full series with
at most two points per column. Breach points are picked from the full data before decimation and
kept one per pixel column and side (the highest above ``high``, the lowest below ``low``): every
column holding a breach is marked, and a million breaching readings draw at most two markers per
column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _columns_of(t: np.ndarray, *, start: float, end: float, columns: int) -> np.ndarray:
    span = end - start
    if span <= 0:
        return np.zeros(t.size, dtype=np.int64)
    column = np.floor((t - start) * (columns / span)).astype(np.int64)
    return np.clip(column, 0, columns - 1)


def breaches_per_column(
    t: np.ndarray,
    v: np.ndarray,
    *,
    start: float,
    end: float,
    columns: int,
    low: float | None,
    high: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Of the breach points ``(t, v)``, each pixel column's highest above ``high`` and lowest
    below ``low``, in time order (at most ``2 * columns`` points)."""
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    column = _columns_of(t, start=start, end=end, columns=columns)
    keep = []
    for threshold, sign in ((high, -1.0), (low, 1.0)):
        if threshold is None:
            continue
        side = np.flatnonzero(v > threshold if sign < 0 else v < threshold)
        # Sorted by column, then most extreme first: the first of each column is its marker.
        order = side[np.lexsort((sign * v[side], column[side]))]
        _, first = np.unique(column[order], return_index=True)
        keep.append(order[first])
    chosen = np.unique(np.concatenate(keep)) if keep else np.empty(0, dtype=np.int64)
    chosen = chosen[np.argsort(t[chosen], kind="stable")]
    return t[chosen], v[chosen]


def _first_per_segment(mask: np.ndarray, segment_of: np.ndarray) -> np.ndarray:
    """Index of the first True of ``mask`` within each segment (``segment_of`` non-decreasing)."""
    candidates = np.flatnonzero(mask)
    _, first = np.unique(segment_of[candidates], return_index=True)
    return candidates[first]


def decimate_minmax(
    t: np.ndarray,
    v: np.ndarray,
    *,
    start: float,
    end: float,
    columns: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep each pixel column's min and max of ``v``; ``t`` ascending seconds in ``[start, end]``.

    Returns the kept points in time order: at most ``2 * columns`` of them. Points outside
    ``[start, end]`` are clamped into the first or last column.
    """
    if columns < 1:
        raise ValueError("columns must be >= 1")
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError("t and v must be 1-D arrays of the same length")
    if t.size <= 2:
        return t.copy(), v.copy()
    if np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
    span = end - start
    if span <= 0:
        column = np.zeros(t.size, dtype=np.int64)
    else:
        column = np.floor((t - start) * (columns / span)).astype(np.int64)
        np.clip(column, 0, columns - 1, out=column)
    boundaries = np.flatnonzero(np.diff(column)) + 1
    starts = np.concatenate(([0], boundaries))
    lengths = np.diff(np.concatenate((starts, [t.size])))
    segment_of = np.repeat(np.arange(starts.size), lengths)
    minimum = np.repeat(np.minimum.reduceat(v, starts), lengths)
    maximum = np.repeat(np.maximum.reduceat(v, starts), lengths)
    keep = np.union1d(
        _first_per_segment(v == minimum, segment_of),
        _first_per_segment(v == maximum, segment_of),
    )
    return t[keep], v[keep]


@dataclass
class StreamingDecimator:
    """Decimate a series fed in time-ordered chunks, holding O(columns) points between chunks.

    Also picks out breach points (``v > high`` or ``v < low``) from every chunk at full
    resolution, before decimation, so none is lost.
    """

    start: float
    end: float
    columns: int
    low: float | None = None
    high: float | None = None
    count: int = 0
    _t: np.ndarray = field(default_factory=lambda: np.empty(0))
    _v: np.ndarray = field(default_factory=lambda: np.empty(0))
    _breach_t: list[np.ndarray] = field(default_factory=list)
    _breach_v: list[np.ndarray] = field(default_factory=list)

    def feed(self, t: np.ndarray, v: np.ndarray) -> None:
        t = np.asarray(t, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        if t.size == 0:
            return
        self.count += t.size
        mask = breach_mask(v, low=self.low, high=self.high)
        if mask.any():
            self._breach_t, self._breach_v = [
                [part]
                for part in breaches_per_column(
                    np.concatenate((*self._breach_t, t[mask])),
                    np.concatenate((*self._breach_v, v[mask])),
                    start=self.start,
                    end=self.end,
                    columns=self.columns,
                    low=self.low,
                    high=self.high,
                )
            ]
        self._t, self._v = decimate_minmax(
            np.concatenate((self._t, t)),
            np.concatenate((self._v, v)),
            start=self.start,
            end=self.end,
            columns=self.columns,
        )

    @property
    def series(self) -> tuple[np.ndarray, np.ndarray]:
        return self._t, self._v

    @property
    def breaches(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._breach_t:
            return np.empty(0), np.empty(0)
        return np.concatenate(self._breach_t), np.concatenate(self._breach_v)


def breach_mask(v: np.ndarray, *, low: float | None, high: float | None) -> np.ndarray:
    """True where a value breaches: strictly above ``high`` or strictly below ``low``."""
    mask = np.zeros(v.shape, dtype=bool)
    if high is not None:
        mask |= v > high
    if low is not None:
        mask |= v < low
    return mask
