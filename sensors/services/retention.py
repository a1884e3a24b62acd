"""Retention of raw readings: monthly partitions kept ahead, and pruning of old readings.

On PostgreSQL ``sensors_reading`` is partitioned by month (migration 0004): a partition wholly
older than the cut-off is detached and dropped, which costs the same for 10 rows or 10 million,
and only the rows of the boundary month (and of the default partition) are deleted, in chunks.
On SQLite every old row is deleted in chunks. Alerts, cursors and rollups are never touched:
only the readings table is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from sensors.models import Reading, Sensor
from sensors.partitions import (
    DEFAULT_PARTITION,
    READINGS_TABLE,
    MonthPartition,
    months_ahead,
    partition_from_name,
    retention_cutoff,
)
from targets_site.errors import InvalidInput

PRUNE_CHUNK = 10_000
# One number for every process that creates or drops partitions (check_thresholds on several
# machines, prune_readings): CREATE TABLE IF NOT EXISTS alone still races on the catalog.
_PARTITION_LOCK = 0x7365_6E73  # "sens"


@dataclass(frozen=True)
class DroppedPartition:
    name: str
    estimated_rows: int


@dataclass
class PruneResult:
    cutoff: datetime
    dry_run: bool
    dropped: list[DroppedPartition] = field(default_factory=list)
    deleted: int = 0


def readings_partitioned() -> bool:
    """True when the readings table is a partitioned PostgreSQL table."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [READINGS_TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def _partition_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE pg_inherits.inhparent = to_regclass(%s)",
            [READINGS_TABLE],
        )
        return [row[0] for row in cursor.fetchall()]


def _partition_create(month: MonthPartition) -> None:
    """Create one monthly partition, moving into it any rows the default partition holds for it.

    A plain ``CREATE TABLE ... PARTITION OF`` is refused while the default partition holds a row
    of that month (an insert that arrived before the partition existed), so such rows are moved
    into a new table first, which is then attached.
    """
    bounds = [month.lower, month.upper]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {DEFAULT_PARTITION} "  # noqa: S608 - names from partitions.py
            'WHERE "timestamp" >= %s AND "timestamp" < %s LIMIT 1',
            bounds,
        )
        if cursor.fetchone() is None:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {month.name} PARTITION OF {READINGS_TABLE} "
                "FOR VALUES FROM (%s) TO (%s)",
                bounds,
            )
            return
        cursor.execute(f"CREATE TABLE {month.name} (LIKE {READINGS_TABLE} INCLUDING DEFAULTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608
            'WHERE "timestamp" >= %s AND "timestamp" < %s RETURNING *) '
            f"INSERT INTO {month.name} SELECT * FROM moved",
            bounds,
        )
        cursor.execute(
            f"ALTER TABLE {READINGS_TABLE} ATTACH PARTITION {month.name} "
            "FOR VALUES FROM (%s) TO (%s)",
            bounds,
        )


def readings_partitions_ensure(*, now: datetime | None = None, ahead: int = 2) -> list[str]:
    """Create the monthly partitions of this month and the ``ahead`` next; return those created.

    Cheap when they exist (one catalog query), so check_thresholds calls it on every run. A no-op
    on SQLite or on a table that is not partitioned.
    """
    if not readings_partitioned():
        return []
    wanted = months_ahead(now or timezone.now(), ahead=ahead)
    existing = set(_partition_names())
    missing = [month for month in wanted if month.name not in existing]
    if not missing:
        return []
    created = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK])
        existing = set(_partition_names())  # another process may have created them meanwhile
        for month in missing:
            if month.name not in existing:
                _partition_create(month)
                created.append(month.name)
    return created


def _estimated_rows(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [name])
        row = cursor.fetchone()
    # reltuples is -1 for a table never vacuumed or analysed: no estimate then.
    return max(int(row[0]), 0) if row else 0


def _drop_old_partitions(
    cutoff: datetime, *, dry_run: bool, advance: Callable[[int], None] | None
) -> list[DroppedPartition]:
    doomed = sorted(
        month
        for month in (partition_from_name(name) for name in _partition_names())
        if month is not None and month.is_older_than(cutoff)
    )
    dropped = []
    for month in doomed:
        estimate = _estimated_rows(month.name)
        if not dry_run:
            # Detach then drop, one month per transaction: the ACCESS EXCLUSIVE lock on the
            # parent that DETACH needs is held for milliseconds, not for the whole prune.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK])
                cursor.execute(f"ALTER TABLE {READINGS_TABLE} DETACH PARTITION {month.name}")
                cursor.execute(f"DROP TABLE {month.name}")
        dropped.append(DroppedPartition(name=month.name, estimated_rows=estimate))
        if advance is not None:
            advance(estimate)
    return dropped


def _delete_old_rows(
    cutoff: datetime, *, chunk_size: int, advance: Callable[[int], None] | None
) -> int:
    """Delete readings before ``cutoff`` sensor by sensor, ``chunk_size`` ids per statement.

    Each chunk is found through the unique (sensor, timestamp) index and deleted in its own
    transaction, so no lock is held for long and a killed run leaves only whole chunks done.
    """
    total = 0
    for sensor_id in Sensor.objects.order_by("id").values_list("id", flat=True):
        old = Reading.objects.filter(sensor_id=sensor_id, timestamp__lt=cutoff)
        while True:
            ids = list(old.order_by("timestamp").values_list("id", flat=True)[:chunk_size])
            if not ids:
                break
            with transaction.atomic():
                deleted, _ = old.filter(id__in=ids).delete()
            total += deleted
            if advance is not None:
                advance(deleted)
            if len(ids) < chunk_size:
                break
    return total


def readings_prune(
    *,
    keep_days: int,
    now: datetime | None = None,
    dry_run: bool = False,
    chunk_size: int = PRUNE_CHUNK,
    advance: Callable[[int], None] | None = None,
) -> PruneResult:
    """Remove the raw readings older than ``keep_days`` days (``dry_run``: only report them).

    Raises ``InvalidInput`` for ``keep_days`` below 1 or a ``chunk_size`` below 1.
    """
    if keep_days < 1:
        raise InvalidInput.for_field("keep_days", "Keep at least 1 day of readings.")
    if chunk_size < 1:
        raise InvalidInput.for_field("chunk_size", "The chunk size must be at least 1.")
    cutoff = retention_cutoff(now or timezone.now(), keep_days=keep_days)
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    if readings_partitioned():
        result.dropped = _drop_old_partitions(cutoff, dry_run=dry_run, advance=advance)
    if dry_run:
        # The rows of the partitions that would be dropped are not rows that would be deleted.
        months = [partition_from_name(item.name) for item in result.dropped]
        result.deleted = _count_outside(cutoff, [month for month in months if month is not None])
        if advance is not None and result.deleted:
            advance(result.deleted)
        return result
    result.deleted = _delete_old_rows(cutoff, chunk_size=chunk_size, advance=advance)
    return result


def _count_outside(cutoff: datetime, months: list[MonthPartition]) -> int:
    """Rows before ``cutoff`` outside the given months (a dry run's rows to delete)."""
    old = Reading.objects.filter(timestamp__lt=cutoff)
    for month in months:
        old = old.exclude(timestamp__gte=month.lower, timestamp__lt=month.upper)
    return old.count()
