from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sensors.models import Alert, Reading, ReadingMark, ReadingRollup, ThresholdCursor
from sensors.partitions import (
    DEFAULT_PARTITION,
    MonthPartition,
    month_of,
    months_ahead,
    partition_from_name,
)
from sensors.selectors import stats_for
from sensors.services import alerts_evaluate, readings_store
from sensors.services.retention import readings_partitions_ensure, readings_prune
from tests.sensors.factories import SensorFactory

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)
# January to May 2026, one reading every 6 hours.
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(hours=6)


def _store_months(sensor, *, start=START, end=NOW):
    rows = []
    moment = start
    while moment < end:
        rows.append((sensor.id, moment, float(moment.day)))
        moment += STEP
    return readings_store(rows=rows)


def _partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits JOIN pg_class child "
            "ON child.oid = pg_inherits.inhrelid "
            "WHERE pg_inherits.inhparent = 'sensors_reading'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


def _rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def test_month_partitions_have_utc_bounds_and_roll_over_the_year():
    december = month_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert december.name == "sensors_reading_p202612"
    assert december.lower == datetime(2026, 12, 1, tzinfo=UTC)
    assert december.upper == datetime(2027, 1, 1, tzinfo=UTC)
    # 00:30 on 1 January at +02:00 is still December in UTC.
    east = datetime(2027, 1, 1, 0, 30, tzinfo=UTC) + timedelta(hours=-1)
    assert month_of(east) == december
    assert [m.name for m in months_ahead(datetime(2026, 11, 30, tzinfo=UTC))] == [
        "sensors_reading_p202611",
        "sensors_reading_p202612",
        "sensors_reading_p202701",
    ]


def test_partition_names_parse_back_and_foreign_names_are_ignored():
    assert partition_from_name("sensors_reading_p202602") == MonthPartition(2026, 2)
    assert partition_from_name(DEFAULT_PARTITION) is None
    assert partition_from_name("sensors_reading_p202613") is None
    assert partition_from_name("other_p202602") is None


def test_a_month_is_dropped_only_when_all_of_it_is_older_than_the_cutoff():
    february = MonthPartition(2026, 2)
    assert february.is_older_than(datetime(2026, 3, 1, tzinfo=UTC))
    assert not february.is_older_than(datetime(2026, 2, 28, 23, 59, tzinfo=UTC))


def test_month_of_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        month_of(datetime(2026, 1, 1))


@pytest.mark.django_db
def test_prune_removes_old_readings_and_keeps_newer_ones_and_the_alerts():
    sensor, other = SensorFactory(), SensorFactory()
    _store_months(sensor)
    _store_months(other)
    alerts_evaluate()  # builds the rollups (and consumes the marks)
    rollups = list(ReadingRollup.objects.order_by("id").values())
    Alert.objects.create(
        sensor=sensor,
        kind="high",
        opened_at=START,
        closed_at=START + STEP,
        reading_count=2,
        peak_value=99.0,
    )
    _store_months(other, start=NOW, end=NOW + STEP * 2)  # a fresh mark left unconsumed
    alerts = list(Alert.objects.values())
    marks = ReadingMark.objects.count()
    cursors = list(ThresholdCursor.objects.values())
    cutoff = NOW - timedelta(days=60)  # 2026-03-11 12:00
    kept_before = list(
        Reading.objects.filter(timestamp__gte=cutoff).order_by("sensor_id", "timestamp").values()
    )
    old = Reading.objects.filter(timestamp__lt=cutoff).count()

    result = readings_prune(keep_days=60, now=NOW, chunk_size=37)

    assert result.cutoff == cutoff
    assert not Reading.objects.filter(timestamp__lt=cutoff).exists()
    assert list(Reading.objects.order_by("sensor_id", "timestamp").values()) == kept_before
    # No monthly partition covers January to March here (the default holds them): row deletes.
    assert result.dropped == []
    assert result.deleted == old
    assert list(Alert.objects.values()) == alerts
    assert list(ThresholdCursor.objects.values()) == cursors
    assert ReadingMark.objects.count() == marks == 1
    # Rollups outlive the raw readings they summarise.
    assert len(rollups) > 1000
    assert list(ReadingRollup.objects.order_by("id").values()) == rollups


@pytest.mark.django_db
def test_stats_over_the_kept_range_are_unchanged_by_pruning():
    sensor = SensorFactory()
    _store_months(sensor)
    kept_from = NOW - timedelta(days=30)
    before = list(stats_for(sensor=sensor, start=kept_from, end=NOW, bucket=timedelta(days=1)))

    readings_prune(keep_days=30, now=NOW)

    assert (
        list(stats_for(sensor=sensor, start=kept_from, end=NOW, bucket=timedelta(days=1))) == before
    )
    assert before and sum(bucket.count for bucket in before) > 100


@pytest.mark.django_db
def test_a_dry_run_removes_nothing_and_counts_what_a_run_would_delete():
    sensor = SensorFactory()
    _store_months(sensor)
    total = Reading.objects.count()

    dry = readings_prune(keep_days=45, now=NOW, dry_run=True)
    assert Reading.objects.count() == total
    real = readings_prune(keep_days=45, now=NOW)

    assert dry.deleted == real.deleted
    assert [p.name for p in dry.dropped] == [p.name for p in real.dropped]


@pytest.mark.django_db
def test_prune_readings_command_reports_what_it_removed_and_refuses_bad_days():
    sensor = SensorFactory()
    # Readings of 400 days ago and of today: only the old ones go.
    now = datetime.now(UTC)
    readings_store(
        rows=[(sensor.id, now - timedelta(days=400, minutes=i), 1.0) for i in range(50)]
        + [(sensor.id, now - timedelta(minutes=i), 2.0) for i in range(5)]
    )
    out = StringIO()
    call_command("prune_readings", "--keep-days", "90", stdout=out)

    assert Reading.objects.count() == 5
    assert "deleted 50 rows" in out.getvalue()
    with pytest.raises(CommandError, match="Keep at least 1 day"):
        call_command("prune_readings", "--keep-days", "0", stdout=StringIO())


@pytest.mark.django_db
def test_prune_readings_shows_a_progress_bar_only_on_a_terminal(capsys):
    sensor = SensorFactory()
    readings_store(rows=[(sensor.id, START + STEP * i, 1.0) for i in range(20)])

    class Terminal(StringIO):
        def isatty(self):
            return True

    out = Terminal()
    call_command("prune_readings", "--keep-days", "1", stdout=out)
    assert "Pruning" in capsys.readouterr().err
    assert "deleted 20 rows" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db
def test_prune_drops_whole_old_months_and_deletes_only_inside_the_boundary_month():
    sensor = SensorFactory()
    readings_partitions_ensure(now=START, ahead=4)  # January to May 2026
    _store_months(sensor)
    assert {"sensors_reading_p202601", "sensors_reading_p202602"} <= _partitions()
    march_rows = _rows_in("sensors_reading_p202603")

    result = readings_prune(keep_days=60, now=NOW)  # cut-off 11 March, 12:00

    assert [p.name for p in result.dropped] == [
        "sensors_reading_p202601",
        "sensors_reading_p202602",
    ]
    partitions = _partitions()
    assert "sensors_reading_p202601" not in partitions
    assert "sensors_reading_p202602" not in partitions
    assert {"sensors_reading_p202603", DEFAULT_PARTITION} <= partitions
    # 10 days and 12 hours of March, at 4 readings a day, were deleted row by row.
    assert result.deleted == 42
    assert _rows_in("sensors_reading_p202603") == march_rows - 42
    assert Reading.objects.earliest("timestamp").timestamp == NOW - timedelta(days=60)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_reading_in_a_month_without_partition_lands_in_the_default_and_moves_later():
    sensor = SensorFactory()
    far = datetime(2031, 7, 4, tzinfo=UTC)
    assert "sensors_reading_p203107" not in _partitions()

    assert readings_store(rows=[(sensor.id, far, 1.0), (sensor.id, far + STEP, 2.0)]) == 2
    assert _rows_in(DEFAULT_PARTITION) == 2
    # Re-sent readings are still not duplicated, wherever they live.
    assert readings_store(rows=[(sensor.id, far, 1.0), (sensor.id, far + STEP, 2.0)]) == 0

    created = readings_partitions_ensure(now=far, ahead=0)

    assert created == ["sensors_reading_p203107"]
    assert _rows_in(DEFAULT_PARTITION) == 0
    assert _rows_in("sensors_reading_p203107") == 2
    assert readings_partitions_ensure(now=far, ahead=0) == []
    assert readings_store(rows=[(sensor.id, far, 1.0)]) == 0
    assert Reading.objects.filter(sensor=sensor).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_check_thresholds_creates_this_month_and_the_next_two():
    with connection.cursor() as cursor:
        for month in months_ahead(datetime.now(UTC)):
            cursor.execute(f"DROP TABLE IF EXISTS {month.name}")
    out = StringIO()
    call_command("check_thresholds", stdout=out)

    assert {m.name for m in months_ahead(datetime.now(UTC))} <= _partitions()
    assert "Created reading partitions" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_partitioning_migration_converts_a_table_with_data():
    before = [("sensors", "0004_reading_rollups")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("sensors")
    partitioning = ("sensors", "0005_reading_monthly_partitions")
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        OldSensor = old_apps.get_model("sensors", "Sensor")
        OldReading = old_apps.get_model("sensors", "Reading")
        sensor = OldSensor.objects.create(
            code="M1", name="m", unit="C", hysteresis=0, min_duration=0
        )
        stamps = [datetime(2025, month, 15, 8, tzinfo=UTC) for month in (3, 4, 6)]
        OldReading.objects.bulk_create(
            OldReading(sensor=sensor, timestamp=stamp + timedelta(minutes=i), value=i)
            for stamp in stamps
            for i in range(10)
        )
        rows_before = list(
            OldReading.objects.order_by("id").values_list("id", "timestamp", "value")
        )

        executor = MigrationExecutor(connection)
        executor.migrate([partitioning])

        with connection.cursor() as cursor:
            cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'sensors_reading'")
            assert cursor.fetchone()[0] == "p"
            cursor.execute("SELECT id, timestamp, value FROM sensors_reading ORDER BY id")
            assert cursor.fetchall() == rows_before
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'reading_sensor_time_uniq'"
            )
            assert "UNIQUE" in cursor.fetchone()[0]
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'sensors_reading_pkey'"
            )
            assert cursor.fetchone()[0] == 'PRIMARY KEY (id, "timestamp")'
        partitions = _partitions()
        assert {
            "sensors_reading_p202503",
            "sensors_reading_p202504",
            "sensors_reading_p202506",
            DEFAULT_PARTITION,
        } <= partitions
        assert "sensors_reading_p202505" not in partitions
        assert _rows_in("sensors_reading_p202504") == 10
        # The id sequence carries on, and the unique index still refuses a second copy.
        new_sensor_id = sensor.id
        readings_store(rows=[(new_sensor_id, datetime(2025, 6, 20, tzinfo=UTC), 1.0)])
        assert readings_store(rows=[(new_sensor_id, stamps[0], 0.0)]) == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT MAX(id) FROM sensors_reading")
            assert cursor.fetchone()[0] == rows_before[-1][0] + 1
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
