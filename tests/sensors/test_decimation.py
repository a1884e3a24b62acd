from __future__ import annotations

import numpy as np
import pytest

from sensors.decimation import (
    StreamingDecimator,
    breach_mask,
    breaches_per_column,
    decimate_minmax,
)


def test_each_column_keeps_its_minimum_and_maximum_in_time_order():
    t = np.arange(8, dtype=float)  # two columns of four points
    v = np.array([5, 1, 9, 4, 3, 8, 2, 7], dtype=float)
    kept_t, kept_v = decimate_minmax(t, v, start=0, end=8, columns=2)
    assert kept_t.tolist() == [1, 2, 5, 6]
    assert kept_v.tolist() == [1, 9, 8, 2]


def test_a_million_points_shrink_to_at_most_two_per_column_and_keep_the_extremes():
    rng = np.random.default_rng(1)
    t = np.arange(1_000_000, dtype=float)
    v = rng.normal(size=t.size)
    v[123_456] = 50.0
    v[654_321] = -50.0
    kept_t, kept_v = decimate_minmax(t, v, start=0, end=t.size, columns=800)
    assert kept_t.size <= 1600
    assert np.all(np.diff(kept_t) > 0)
    assert 50.0 in kept_v and -50.0 in kept_v
    assert kept_v.max() == v.max() and kept_v.min() == v.min()


def test_a_flat_column_keeps_a_single_point():
    kept_t, kept_v = decimate_minmax(np.arange(10.0), np.full(10, 3.0), start=0, end=10, columns=1)
    assert kept_t.tolist() == [0.0] and kept_v.tolist() == [3.0]


def test_unsorted_input_is_sorted_before_decimation():
    kept_t, _ = decimate_minmax(
        np.array([3.0, 1.0, 2.0, 0.0]), np.array([1.0, 2.0, 3.0, 4.0]), start=0, end=4, columns=4
    )
    assert kept_t.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_points_outside_the_range_fall_into_the_edge_columns_and_add_no_columns():
    # 1,000 points before ``start`` and 1,000 after ``end``, with the range split in 4 columns:
    # clamped into the first and last column, they may add no points beyond 2 per column.
    t = np.arange(-1000.0, 1400.0)
    v = np.sin(t / 7.0)
    v[500] = 5.0  # before the range: the first column's maximum
    v[2200] = -5.0  # after the range: the last column's minimum
    kept_t, kept_v = decimate_minmax(t, v, start=0, end=400, columns=4)
    assert kept_t.size <= 8
    assert 5.0 in kept_v and -5.0 in kept_v
    first, last = kept_t[kept_t < 100], kept_t[kept_t >= 300]
    assert first.size <= 2 and -500.0 in first
    assert last.size <= 2 and 1200.0 in last


def test_a_point_exactly_at_the_end_belongs_to_the_last_column():
    # (end - start) * columns / span is ``columns``: one past the last column unless clamped.
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    v = np.array([0.0, 1.0, 0.5, 0.7, 0.6])
    kept_t, _ = decimate_minmax(t, v, start=0, end=4, columns=2)
    # Column 1 holds 2, 3 and 4: only its minimum (2) and maximum (3) are kept.
    assert kept_t.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_zero_columns_is_refused():
    with pytest.raises(ValueError):
        decimate_minmax(np.arange(3.0), np.arange(3.0), start=0, end=3, columns=0)


def test_streaming_in_chunks_gives_the_same_picture_as_one_pass():
    rng = np.random.default_rng(7)
    t = np.arange(100_000, dtype=float)
    v = np.sin(t / 5000) * 10 + rng.normal(size=t.size)
    whole = decimate_minmax(t, v, start=0, end=t.size, columns=300)
    stream = StreamingDecimator(start=0, end=t.size, columns=300, high=9.0, low=-9.0)
    for chunk in range(0, t.size, 7_777):  # chunks straddle column edges
        stream.feed(t[chunk : chunk + 7_777], v[chunk : chunk + 7_777])
    assert stream.count == t.size
    np.testing.assert_array_equal(stream.series[0], whole[0])
    np.testing.assert_array_equal(stream.series[1], whole[1])


def test_streaming_marks_every_breaching_column_once_per_side():
    t = np.arange(10_000, dtype=float)
    v = np.zeros(t.size)
    v[::100] = 12.0  # 100 breaches above, ten per pixel column
    v[50] = 13.0  # the highest of column 0
    v[9_999] = -5.0  # one breach below, in the last column
    stream = StreamingDecimator(start=0, end=t.size, columns=10, low=-1.0, high=10.0)
    stream.feed(t[:5000], v[:5000])
    stream.feed(t[5000:], v[5000:])
    breach_t, breach_v = stream.breaches
    assert breach_v.tolist() == [13.0] + [12.0] * 9 + [-5.0]
    assert sorted({int(x // 1000) for x in breach_t}) == list(range(10))
    assert stream.series[0].size <= 20


def test_a_million_breaches_draw_at_most_two_markers_per_column():
    t = np.arange(1_000_000, dtype=float)
    v = np.where(t % 2 == 0, 100.0, -100.0)
    breach_t, _ = breaches_per_column(t, v, start=0, end=t.size, columns=800, low=0, high=1)
    assert breach_t.size == 1600
    assert np.all(np.diff(breach_t) >= 0)


def test_breach_mask_treats_values_equal_to_a_threshold_as_inside():
    v = np.array([47.0, 48.0, 65.0, 66.0])
    assert breach_mask(v, low=48, high=65).tolist() == [True, False, False, True]
    assert breach_mask(v, low=None, high=None).tolist() == [False] * 4
