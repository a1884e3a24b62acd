"""Silent sensors: the pure rules (thresholds.py) and check_thresholds applying them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from notifications.models import Notification
from sensors.models import Alert, Sensor, ThresholdCursor
from sensors.services import alerts_evaluate
from sensors.thresholds import (
    HIGH,
    SILENT,
    Episode,
    EvaluatorState,
    ThresholdRule,
    evaluate,
    evaluate_silence,
)
from tests.helpers import assert_error
from tests.notifications.factories import ChannelFactory
from tests.sensors.factories import SensorFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULE = ThresholdRule(high=65, max_silence=300)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def readings(*pairs: tuple[float, float]) -> list[tuple[datetime, float]]:
    return [(at(minute), value) for minute, value in pairs]


# --- the pure rules -----------------------------------------------------------------------


def test_a_gap_longer_than_max_silence_is_a_silent_episode_that_closes_an_open_alert():
    result = evaluate(RULE, readings((0, 60), (1, 66), (2, 70), (20, 60), (21, 61)))
    assert result.episodes == [
        Episode(HIGH, at(1), at(2), 70.0, 2),  # closed at its last reading
        Episode(SILENT, at(7), at(20), None, 0),  # from last reading + 5 min to the next one
    ]
    assert result.state.open is None


def test_a_gap_of_exactly_max_silence_is_not_silence():
    result = evaluate(RULE, readings((0, 66), (5, 67)))
    assert [episode.kind for episode in result.episodes] == [HIGH]
    assert result.state.open is not None


def test_a_breach_pending_before_a_silence_is_forgotten():
    rule = ThresholdRule(high=65, min_duration=120, max_silence=300)
    result = evaluate(rule, readings((0, 66), (1, 67), (30, 68), (31, 69)))
    assert result.episodes == [Episode(SILENT, at(6), at(30), None, 0)]
    assert result.state.pending is not None and result.state.pending.since == at(30)


def test_silence_now_closes_the_open_alert_at_the_last_reading_and_opens_a_silent_one():
    state = evaluate(RULE, readings((0, 60), (1, 66), (2, 70))).state
    assert evaluate_silence(RULE, state, now=at(7)).episodes == []  # exactly 5 min: not yet
    result = evaluate_silence(RULE, state, now=at(7.01))
    assert result.episodes == [
        Episode(HIGH, at(1), at(2), 70.0, 2),
        Episode(SILENT, at(7), None, None, 0),
    ]
    assert result.state.open == Episode(SILENT, at(7), None, None, 0)
    assert evaluate_silence(RULE, result.state, now=at(60)).episodes == []  # once only
    after = evaluate(RULE, readings((30, 66)), result.state)
    assert after.episodes == [
        Episode(SILENT, at(7), at(30), None, 0),
        Episode(HIGH, at(30), None, 66.0, 1),
    ]


def test_a_sensor_that_never_reported_is_silent_from_when_it_was_watched():
    result = evaluate_silence(RULE, EvaluatorState(), now=at(10), watched_since=at(0))
    assert result.episodes == [Episode(SILENT, at(5), None, None, 0)]
    assert evaluate_silence(RULE, EvaluatorState(), now=at(10)).episodes == []


def test_a_reading_dated_before_the_silence_began_withdraws_it():
    silent = evaluate_silence(RULE, evaluate(RULE, readings((0, 60))).state, now=at(10)).state
    result = evaluate(RULE, readings((3, 61)), silent)
    assert result.episodes == [] and result.state.open is None


def test_without_max_silence_gaps_are_nothing():
    rule = ThresholdRule(high=65)
    result = evaluate(rule, readings((0, 66), (600, 67)))
    assert result.episodes == [Episode(HIGH, at(0), None, 67.0, 2)]
    assert evaluate_silence(rule, result.state, now=at(10_000)).episodes == []


@given(
    gaps=st.lists(st.sampled_from([1, 2, 4, 6, 30]), min_size=1, max_size=40),
    values=st.lists(st.floats(min_value=50, max_value=80), min_size=40, max_size=40),
    splits=st.sets(st.integers(min_value=1, max_value=39), max_size=5),
    wait=st.floats(min_value=0, max_value=1),
    min_duration=st.sampled_from([0, 120]),
)
def test_checking_for_silence_between_runs_gives_the_episodes_of_one_pass(
    gaps, values, splits, wait, min_duration
):
    """Runs at any moment between readings (silence checked each time) end with the alerts of
    one pass over the whole series."""
    rule = ThresholdRule(high=65, hysteresis=2, min_duration=min_duration, max_silence=300)
    minutes = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    series = [(at(m), values[i]) for i, m in enumerate(minutes)]
    whole = evaluate(rule, series)

    by_start: dict[tuple[str, datetime], Episode] = {}
    state = EvaluatorState()
    bounds = [0, *sorted(s for s in splits if s < len(series)), len(series)]
    for start, end in itertools.pairwise(bounds):
        run = evaluate(rule, series[start:end], state)
        by_start.update({(e.kind, e.opened_at): e for e in run.episodes})
        state = run.state
        if end < len(series):
            # The check runs some time before the next reading arrives.
            last, following = series[end - 1][0], series[end][0]
            now = last + (following - last) * wait
            silence = evaluate_silence(rule, state, now=now)
            by_start.update({(e.kind, e.opened_at): e for e in silence.episodes})
            state = silence.state
    assert sorted(by_start.values(), key=lambda e: e.opened_at) == whole.episodes


# --- check_thresholds ---------------------------------------------------------------------


@pytest.fixture
def recent():
    """``recent(m)``: m minutes before this test's fixed "now" (whole seconds)."""
    base = timezone.now().replace(microsecond=0)
    return lambda minutes_ago: base - timedelta(minutes=minutes_ago)


def store_at(sensor: Sensor, *pairs: tuple[datetime, float]) -> None:
    from sensors.services import readings_store

    readings_store(rows=[(sensor.id, moment, float(value)) for moment, value in pairs])


def alerts(sensor: Sensor) -> list[tuple]:
    return list(
        Alert.objects.filter(sensor=sensor)
        .order_by("opened_at")
        .values_list("kind", "opened_at", "closed_at", "peak_value", "reading_count")
    )


@pytest.mark.django_db
def test_check_thresholds_opens_a_silent_alert_and_the_next_reading_closes_it(recent):
    channel = ChannelFactory(events=["alert.opened", "alert.closed"])
    sensor = SensorFactory(code="A", high_threshold=65, max_silence=600)
    last = recent(30)
    store_at(sensor, (recent(31), 60), (last, 61))
    summary = alerts_evaluate()
    assert summary.opened == 1
    assert alerts(sensor) == [("silent", last + timedelta(minutes=10), None, None, 0)]
    assert alerts_evaluate().opened == 0  # one silent alert, not one per run

    arrived = recent(0)
    store_at(sensor, (arrived, 62))
    alerts_evaluate()
    assert alerts(sensor) == [("silent", last + timedelta(minutes=10), arrived, None, 0)]
    events = list(
        Notification.objects.filter(channel=channel)
        .order_by("id")
        .values_list("event", "payload__alert__kind")
    )
    assert events == [("alert.opened", "silent"), ("alert.closed", "silent")]


@pytest.mark.django_db
def test_a_high_alert_is_closed_at_its_last_reading_when_the_sensor_goes_silent(recent):
    sensor = SensorFactory(code="A", high_threshold=65, max_silence=600)
    store_at(sensor, (recent(62), 60), (recent(61), 66), (recent(60), 70))
    alerts_evaluate()
    assert alerts(sensor) == [
        ("high", recent(61), recent(60), 70.0, 2),
        ("silent", recent(50), None, None, 0),
    ]
    # Back, still too hot: the silence ends and a new high alert opens at once.
    store_at(sensor, (recent(0), 71))
    alerts_evaluate()
    assert [row[0:3] for row in alerts(sensor)] == [
        ("high", recent(61), recent(60)),
        ("silent", recent(50), recent(0)),
        ("high", recent(0), None),
    ]
    assert not ThresholdCursor.objects.get(sensor=sensor).pending_kind


@pytest.mark.django_db
def test_a_sensor_without_max_silence_stays_quiet_about_silence(recent):
    sensor = SensorFactory(code="A", high_threshold=65)
    store_at(sensor, (recent(600), 66))
    alerts_evaluate()
    assert [row[0:3] for row in alerts(sensor)] == [("high", recent(600), None)]


@pytest.mark.django_db
def test_a_sensor_that_never_reported_goes_silent_after_max_silence_from_its_creation(recent):
    sensor = SensorFactory(code="A", high_threshold=65, max_silence=60)
    Sensor.objects.filter(pk=sensor.pk).update(created_at=recent(5))
    alerts_evaluate()
    assert [row[0] for row in alerts(sensor)] == ["silent"]


@pytest.mark.django_db
def test_a_late_reading_from_before_the_silence_withdraws_the_silent_alert_and_reopens(recent):
    sensor = SensorFactory(code="A", high_threshold=65, max_silence=600)
    store_at(sensor, (recent(61), 66), (recent(60), 70))
    alerts_evaluate()
    assert [row[0] for row in alerts(sensor)] == ["high", "silent"]
    # The device had a reading from 55 minutes ago that only arrives now: no silence happened
    # before it, and the high alert was open all along.
    store_at(sensor, (recent(55), 72))
    alerts_evaluate()
    assert [row[0:3] for row in alerts(sensor)] == [
        ("high", recent(61), recent(55)),
        ("silent", recent(45), None),
    ]


@pytest.mark.django_db
def test_max_silence_is_in_the_sensor_api(staff_client):
    response = staff_client.post(
        "/api/v1/sensors/", {"code": "Z", "high_threshold": 10, "max_silence": 900}
    )
    assert response.status_code == 201, response.content
    assert response.json()["max_silence"] == 900
    patched = staff_client.patch("/api/v1/sensors/Z/", {"max_silence": None})
    assert patched.json()["max_silence"] is None
    for bad in (0, -5, "60", 10**9):
        error = assert_error(staff_client.patch("/api/v1/sensors/Z/", {"max_silence": bad}), 400)
        assert "max_silence" in error["details"]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(
    "thresholds",
    [
        {"high_threshold": 65, "hysteresis": 2},
        {"low_threshold": 50, "high_threshold": 65, "hysteresis": 2, "min_duration": 120},
    ],
)
def test_readings_with_gaps_arriving_in_any_order_end_with_the_alerts_of_the_ordered_series(
    seed, thresholds
):
    """Late batches rewind across silent alerts too: whatever the arrival order, check_thresholds
    after each batch ends where one pass over the ordered series (plus the silence now) ends."""
    import random

    from sensors.services import readings_store
    from tests.sensors.factories import minute

    rng = random.Random(seed)
    sensor = SensorFactory(code="A", max_silence=300, **thresholds)
    minutes = sorted(rng.sample(range(120), 45))  # gaps of 1 to many minutes
    values = {m: rng.choice([45, 51, 55, 64, 66, 70]) for m in minutes}
    arrival = list(minutes)
    rng.shuffle(arrival)
    while arrival:
        size = rng.randint(1, 10)
        batch, arrival = arrival[:size], arrival[size:]
        readings_store(rows=[(sensor.id, minute(m), float(values[m])) for m in batch])
        alerts_evaluate()
    rule = sensor.rule
    whole = evaluate(rule, [(minute(m), float(values[m])) for m in minutes])
    now_silent = evaluate_silence(rule, whole.state, now=timezone.now())
    expected = {(e.kind, e.opened_at): e for e in whole.episodes}
    expected.update({(e.kind, e.opened_at): e for e in now_silent.episodes})
    assert alerts(sensor) == [
        (e.kind, e.opened_at, e.closed_at, e.peak_value, e.reading_count)
        for e in sorted(expected.values(), key=lambda e: e.opened_at)
    ]


@pytest.mark.django_db
def test_the_admin_edits_max_silence(make_user):
    from django.test import Client

    client = Client()
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    sensor = SensorFactory(code="A", high_threshold=65)
    page = client.get(f"/admin/sensors/sensor/{sensor.pk}/change/").content.decode()
    assert 'name="max_silence"' in page
    form = {
        "code": "A",
        "name": "x",
        "unit": "",
        "is_active": "on",
        "high_threshold": "65",
        "hysteresis": "0",
        "min_duration": "0",
        "max_silence": "900",
        "alerts-TOTAL_FORMS": "0",
        "alerts-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/sensors/sensor/{sensor.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    sensor.refresh_from_db()
    assert sensor.max_silence == 900


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "parquet"])
def test_a_silent_alert_exports_with_an_empty_peak(fmt):
    from exports import services as export_services

    sensor = SensorFactory(code="A", high_threshold=65, max_silence=60)
    Sensor.objects.filter(pk=sensor.pk).update(created_at=timezone.now() - timedelta(hours=1))
    alerts_evaluate()
    assert Alert.objects.get().peak_value is None
    export = export_services.export_run(dataset="alerts", fmt=fmt)
    assert (export.status, export.rows) == ("succeeded", 1), export.error
