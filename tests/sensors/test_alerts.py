from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from sensors.models import Alert, ReadingMark, ThresholdCursor
from sensors.services import alerts_evaluate
from tests.sensors.factories import SensorFactory, minute, store

pytestmark = pytest.mark.django_db


def alerts(sensor):
    return list(
        Alert.objects.filter(sensor=sensor)
        .order_by("opened_at")
        .values_list("kind", "opened_at", "closed_at", "peak_value", "reading_count")
    )


def test_check_thresholds_opens_and_closes_an_alert_and_reports_it():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 60, 66, 70, 64, 60)
    out = call_command_output("check_thresholds")
    assert "1 alerts opened, 1 closed" in out
    assert alerts(sensor) == [("high", minute(1), minute(3), 70.0, 2)]


def test_running_it_twice_changes_nothing():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 60, 66, 70)
    first = alerts_evaluate()
    assert first.opened == 1 and ReadingMark.objects.count() == 0
    before = list(Alert.objects.values())
    second = alerts_evaluate()
    assert (second.sensors, second.opened, second.closed, second.updated) == (0, 0, 0, 0)
    assert list(Alert.objects.values()) == before


def test_an_open_alert_is_continued_by_the_next_run_not_duplicated():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 66, 67)
    alerts_evaluate()
    alert = Alert.objects.get()
    store(sensor, 72, 60, start=2)
    summary = alerts_evaluate()
    assert summary.closed == 1 and summary.opened == 0
    alert.refresh_from_db()
    assert (alert.closed_at, alert.peak_value, alert.reading_count) == (minute(3), 72.0, 3)


def test_a_pending_breach_survives_between_runs_until_it_lasts_min_duration():
    sensor = SensorFactory(code="A", high_threshold=65, min_duration=300)
    store(sensor, 66, 67, 68)
    assert alerts_evaluate().opened == 0
    cursor = ThresholdCursor.objects.get(sensor=sensor)
    assert cursor.pending_kind == "high" and cursor.pending_since == minute(0)
    store(sensor, 69, 70, 71, start=3)
    assert alerts_evaluate().opened == 1
    assert alerts(sensor) == [("high", minute(0), None, 71.0, 6)]


def test_a_breach_shorter_than_min_duration_never_becomes_an_alert():
    sensor = SensorFactory(code="A", high_threshold=65, min_duration=600)
    store(sensor, 66, 67, 68, 60, 61)
    alerts_evaluate()
    assert alerts(sensor) == []


def test_hysteresis_keeps_one_alert_across_flapping():
    sensor = SensorFactory(code="A", high_threshold=65, hysteresis=2)
    store(sensor, 66, 64, 66, 64, 66, 62)
    alerts_evaluate()
    assert alerts(sensor) == [("high", minute(0), minute(5), 66.0, 3)]


def test_a_late_breach_inside_a_quiet_stretch_adds_its_alert():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 60, 61, 62, 63, 64)
    alerts_evaluate()
    store(sensor, 80, start=2.5)  # arrives after the run, dated between minutes 2 and 3
    summary = alerts_evaluate()
    assert summary.rewound == ["A"]
    assert alerts(sensor) == [("high", minute(2.5), minute(3), 80.0, 1)]


def test_a_late_reading_extends_an_existing_alert_and_keeps_its_identity():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 60, 70, 71, 60)
    alerts_evaluate()
    alert = Alert.objects.get()
    alert.acknowledged_at = minute(10)
    alert.save()
    store(sensor, 90, start=2.5)
    summary = alerts_evaluate()
    assert summary.updated == 1 and summary.opened == 0
    alert.refresh_from_db()
    assert (alert.peak_value, alert.reading_count, alert.acknowledged_at) == (90.0, 3, minute(10))


def test_a_late_quiet_reading_that_ends_a_breach_early_closes_it_there():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 60, 70, 71, 72, 60)
    alerts_evaluate()
    store(sensor, 50, start=1.5)
    alerts_evaluate()
    assert alerts(sensor) == [
        ("high", minute(1), minute(1.5), 70.0, 1),
        ("high", minute(2), minute(4), 72.0, 2),
    ]


def test_a_late_quiet_reading_can_withdraw_a_pending_confirmation():
    sensor = SensorFactory(code="A", high_threshold=65, min_duration=120)
    store(sensor, 60, 70, 71, 72, 60)
    alerts_evaluate()
    assert len(alerts(sensor)) == 1
    store(sensor, 50, start=2.5)  # the breach never lasted two minutes after all
    summary = alerts_evaluate()
    assert summary.withdrawn == 1
    assert alerts(sensor) == []


def test_re_sent_old_readings_change_nothing():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 60, 70, 71, 60, 66)
    alerts_evaluate()
    before = list(Alert.objects.values())
    store(sensor, 70, 71, start=1)  # duplicates: a mark is written, nothing is new
    summary = alerts_evaluate()
    assert summary.rewound == ["A"]
    assert (summary.opened, summary.closed, summary.updated, summary.withdrawn) == (0, 0, 0, 0)
    assert list(Alert.objects.values()) == before


def test_inactive_sensors_are_skipped_until_they_are_active_again():
    sensor = SensorFactory(code="A", high_threshold=65, is_active=False)
    store(sensor, 70)
    assert alerts_evaluate().sensors == 0
    sensor.is_active = True
    sensor.save()
    assert alerts_evaluate().opened == 1


def test_check_thresholds_refuses_an_unknown_sensor_code():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown sensor codes: NOPE"):
        call_command("check_thresholds", "--sensor", "NOPE")


def call_command_output(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_open_each_alert_exactly_once():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, *([60, 70, 71, 60] * 250))  # 250 episodes
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(alerts_evaluate())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.opened for r in results) == [0, 250]
    assert Alert.objects.filter(sensor=sensor).count() == 250
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("seed", range(6))
def test_readings_arriving_in_any_order_end_with_the_alerts_of_the_ordered_series(seed):
    import random

    from sensors.services import readings_store
    from sensors.thresholds import evaluate

    rng = random.Random(seed)
    sensor = SensorFactory(
        code="A", low_threshold=45, high_threshold=65, hysteresis=2, min_duration=120
    )
    values = [rng.choice([40, 44, 46, 55, 64, 66, 70]) for _ in range(60)]
    minutes = list(range(60))
    rng.shuffle(minutes)
    while minutes:  # random-sized batches, each followed by a cron run
        size = rng.randint(1, 12)
        batch, minutes = minutes[:size], minutes[size:]
        readings_store(rows=[(sensor.id, minute(m), float(values[m])) for m in batch])
        alerts_evaluate()
    expected = evaluate(sensor.rule, [(minute(m), float(v)) for m, v in enumerate(values)])
    assert alerts(sensor) == [
        (e.kind, e.opened_at, e.closed_at, e.peak_value, e.reading_count) for e in expected.episodes
    ]
