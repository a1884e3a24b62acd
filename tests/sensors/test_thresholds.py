from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.thresholds import (
    CLOSE,
    HIGH,
    LOW,
    OPEN,
    Episode,
    EvaluatorState,
    ThresholdRule,
    evaluate,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def series(*values: float, step: int = 60, start: datetime = T0):
    return [(start + timedelta(seconds=i * step), v) for i, v in enumerate(values)]


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_a_value_equal_to_the_high_threshold_is_not_a_breach():
    result = evaluate(ThresholdRule(high=65), series(60, 65, 65, 64))
    assert result.events == [] and result.episodes == []


def test_a_value_equal_to_the_low_threshold_is_not_a_breach():
    result = evaluate(ThresholdRule(low=48), series(50, 48, 48))
    assert result.episodes == []


def test_a_breach_opens_at_once_without_min_duration_and_closes_back_inside():
    result = evaluate(ThresholdRule(high=65), series(60, 66, 70, 65, 60))
    assert [(e.action, e.at) for e in result.events] == [(OPEN, at(1)), (CLOSE, at(3))]
    assert result.episodes == [Episode(HIGH, at(1), at(3), 70, 2)]
    assert result.state.open is None


def test_low_alert_tracks_the_lowest_value_as_its_peak():
    result = evaluate(ThresholdRule(low=48), series(50, 47, 41, 45, 49))
    assert result.episodes == [Episode(LOW, at(1), at(4), 41, 3)]


def test_hysteresis_keeps_a_high_alert_open_until_the_value_is_inside_by_the_margin():
    rule = ThresholdRule(high=65, hysteresis=2)
    result = evaluate(rule, series(66, 64, 63.5, 66, 63.01, 63))
    # 64, 63.5 and 63.01 are inside but not by 2: still open; 63 == 65 - 2 closes it.
    assert [(e.action, e.at) for e in result.events] == [(OPEN, at(0)), (CLOSE, at(5))]
    assert result.episodes[0].reading_count == 2


def test_hysteresis_on_a_low_alert_needs_low_plus_the_margin():
    rule = ThresholdRule(low=48, hysteresis=1)
    result = evaluate(rule, series(47, 48.5, 49))
    assert result.episodes == [Episode(LOW, at(0), at(2), 47, 1)]


def test_flapping_around_the_threshold_without_hysteresis_opens_an_alert_per_crossing():
    result = evaluate(ThresholdRule(high=65), series(66, 64, 66, 64))
    assert [e.action for e in result.events] == [OPEN, CLOSE, OPEN, CLOSE]


def test_flapping_inside_the_hysteresis_band_is_one_episode():
    result = evaluate(ThresholdRule(high=65, hysteresis=3), series(66, 64, 66, 64, 66, 61))
    assert len(result.episodes) == 1
    assert result.episodes[0] == Episode(HIGH, at(0), at(5), 66, 3)


def test_a_breach_shorter_than_min_duration_opens_nothing():
    rule = ThresholdRule(high=65, min_duration=300)
    result = evaluate(rule, series(66, 67, 68, 69, 60))  # lasted 3 minutes
    assert result.events == [] and result.episodes == []
    assert result.state.pending is None


def test_a_breach_opens_once_it_has_lasted_min_duration_dated_from_its_start():
    rule = ThresholdRule(high=65, min_duration=300)
    result = evaluate(rule, series(60, 66, 67, 68, 69, 70, 71))
    assert [(e.action, e.at, e.opened_at) for e in result.events] == [(OPEN, at(6), at(1))]
    assert result.episodes == [Episode(HIGH, at(1), None, 71, 6)]


def test_a_pending_breach_carries_over_to_the_next_run():
    rule = ThresholdRule(high=65, min_duration=300)
    first = evaluate(rule, series(66, 67, 68))
    assert first.events == [] and first.state.pending is not None
    second = evaluate(rule, series(69, 70, 71, start=at(3)), first.state)
    assert [(e.action, e.at, e.opened_at) for e in second.events] == [(OPEN, at(5), at(0))]
    assert second.episodes == [Episode(HIGH, at(0), None, 71, 6)]


def test_an_open_alert_carried_over_is_updated_in_place_and_closed():
    rule = ThresholdRule(high=65)
    first = evaluate(rule, series(66, 70))
    second = evaluate(rule, series(72, 60, start=at(2)), first.state)
    assert second.episodes == [Episode(HIGH, at(0), at(3), 72, 3)]
    assert [e.action for e in second.events] == [CLOSE]


def test_swinging_from_high_to_low_closes_one_alert_and_opens_the_other_on_the_same_reading():
    rule = ThresholdRule(low=40, high=60, hysteresis=50)
    result = evaluate(rule, series(61, 39))
    assert result.episodes == [Episode(HIGH, at(0), at(1), 61, 1), Episode(LOW, at(1), None, 39, 1)]


def test_late_readings_are_returned_not_applied():
    rule = ThresholdRule(high=65)
    first = evaluate(rule, series(60, 61, 62))
    late_and_new = [(at(1) + timedelta(seconds=30), 99.0), (at(3), 61.0)]
    second = evaluate(rule, late_and_new, first.state)
    assert second.late == [(at(1) + timedelta(seconds=30), 99.0)]
    assert second.events == [] and second.evaluated == 1
    assert second.state.last_timestamp == at(3)


def test_a_reading_at_the_same_timestamp_as_the_cursor_is_late():
    state = EvaluatorState(last_timestamp=at(0))
    assert evaluate(ThresholdRule(high=1), [(at(0), 5.0)], state).late == [(at(0), 5.0)]


def test_removing_the_threshold_of_an_open_alert_closes_it_on_the_next_reading():
    opened = evaluate(ThresholdRule(high=65), series(70))
    result = evaluate(ThresholdRule(high=None), series(70, start=at(1)), opened.state)
    assert result.episodes == [Episode(HIGH, at(0), at(1), 70, 1)]


@pytest.mark.parametrize(
    "kwargs",
    [{"low": 5, "high": 5}, {"hysteresis": -1}, {"min_duration": -1}, {"hysteresis": float("nan")}],
)
def test_inconsistent_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        ThresholdRule(**kwargs)


@given(
    values=st.lists(st.floats(min_value=40, max_value=80), min_size=1, max_size=60),
    split=st.integers(min_value=0, max_value=60),
    hysteresis=st.sampled_from([0.0, 1.0, 5.0]),
    min_duration=st.sampled_from([0, 60, 180]),
)
def test_evaluating_in_two_runs_gives_the_same_episodes_as_one_run(
    values, split, hysteresis, min_duration
):
    rule = ThresholdRule(low=45, high=65, hysteresis=hysteresis, min_duration=min_duration)
    readings = series(*values)
    whole = evaluate(rule, readings)
    first = evaluate(rule, readings[:split])
    second = evaluate(rule, readings[split:], first.state)
    by_start = {(e.kind, e.opened_at): e for e in first.episodes}
    by_start.update({(e.kind, e.opened_at): e for e in second.episodes})
    assert sorted(by_start.values(), key=lambda e: e.opened_at) == whole.episodes
    assert second.state == whole.state
