"""Storing readings: the batch checked in slices as it streams into the database's bulk path.

The hot path never runs a DRF field per row: the sensor codes of a batch of 10,000 readings are
resolved in one query, then the readings are checked 1,000 at a time (types, finite floats, aware
timestamps) and each checked slice is written to a binary COPY at once, so PostgreSQL stores one
slice (on the other core) while Python checks the next. A row the fast check leaves to the rules
abandons the COPY (nothing is kept) and the whole batch goes through the rules, which either
name every bad row or let it be stored. On PostgreSQL the COPY goes straight into the table; a
reading already stored sends it through a session temp table and ``INSERT ... ON CONFLICT DO
NOTHING`` instead. Elsewhere ``INSERT OR IGNORE`` in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from types import TracebackType
from typing import Any

from django.db import connection, transaction
from psycopg import errors as psycopg_errors

from sensors.models import Reading, ReadingMark, Sensor
from sensors.parsing import (
    ReadingRow,
    plain_readings_from_json,
    readings_batch,
    readings_from_json,
)
from targets_site import metrics
from targets_site.errors import Conflict, PermissionDenied

_TABLE = Reading._meta.db_table
_SQLITE_CHUNK = 5_000
# Readings checked before they are handed to COPY: small enough that PostgreSQL starts at once,
# large enough that the per-slice overhead stays invisible.
_STREAM_CHUNK = 1_000


@dataclass(frozen=True)
class IngestResult:
    received: int
    created: int

    @property
    def duplicates(self) -> int:
        return self.received - self.created


class DuplicateReading(Exception):
    """A direct COPY met a reading that is already stored (or twice in the input)."""


@dataclass
class ReadingWriter:
    """Write readings in chunks inside the caller's transaction; ``created`` is known on exit.

    On PostgreSQL, ``direct=True`` COPYs straight into the readings table, the fastest path
    there is; a reading already stored makes it raise DuplicateReading (see ``write_readings``).
    Otherwise rows are COPYed into a session temp table and moved with ``INSERT ... ON CONFLICT
    DO NOTHING``. Elsewhere, ``INSERT OR IGNORE`` in batches.

    Also records one ReadingMark per sensor (first and last timestamp written), which is how
    check_thresholds learns what to evaluate, late readings included.
    """

    direct: bool = False
    created: int = 0
    written: int = 0
    _bounds: dict[int, list[datetime]] = field(default_factory=dict)
    _cursor_block: Any = None
    _copy_block: Any = None
    _copy: Any = None

    def __enter__(self) -> ReadingWriter:
        if not connection.in_atomic_block:
            raise RuntimeError("ReadingWriter must run inside transaction.atomic()")
        if connection.vendor == "postgresql":
            self._cursor_block = connection.cursor()
            cursor = self._cursor_block.__enter__()
            target = _TABLE
            if not self.direct:
                target = "sensors_reading_in"
                cursor.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS sensors_reading_in "
                    "(sensor_id bigint, timestamp timestamptz, value float8)"
                )
                cursor.execute("TRUNCATE sensors_reading_in")
            self._copy_block = cursor.cursor.copy(
                f"COPY {target} (sensor_id, timestamp, value) FROM STDIN (FORMAT BINARY)"
            )
            self._copy = self._copy_block.__enter__()
            self._copy.set_types(["int8", "timestamptz", "float8"])
        return self

    def write(self, rows: Iterable[ReadingRow]) -> None:
        rows = list(rows)
        if not rows:
            return
        self.written += len(rows)
        self._track_bounds(rows)
        if self._copy is not None:
            # Binary COPY: psycopg's C row writer, no text formatting or parsing of timestamps.
            write_row = self._copy.write_row
            try:
                for row in rows:
                    write_row(row)
            except psycopg_errors.UniqueViolation:
                raise DuplicateReading() from None
            return
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            for start in range(0, len(rows), _SQLITE_CHUNK):
                chunk = rows[start : start + _SQLITE_CHUNK]
                cursor.executemany(
                    f"INSERT OR IGNORE INTO {_TABLE} (sensor_id, timestamp, value) "  # noqa: S608
                    "VALUES (%s, %s, %s)",
                    [(sensor_id, adapt(ts), value) for sensor_id, ts, value in chunk],
                )
                self.created += max(cursor.rowcount, 0)

    def _track_bounds(self, rows: list[ReadingRow]) -> None:
        sensor_ids = set(map(itemgetter(0), rows))
        for sensor_id in sensor_ids:
            if len(sensor_ids) == 1:
                stamps = list(map(itemgetter(1), rows))
            else:
                stamps = [row[1] for row in rows if row[0] == sensor_id]
            low, high = min(stamps), max(stamps)
            seen = self._bounds.get(sensor_id)
            if seen is None:
                self._bounds[sensor_id] = [low, high]
            else:
                seen[0], seen[1] = min(seen[0], low), max(seen[1], high)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._copy_block is not None:
                copy_block, self._copy_block, self._copy = self._copy_block, None, None
                try:
                    # Ends the COPY: the end-of-data marker on success, an abort on error.
                    copy_block.__exit__(exc_type, exc, tb)
                except psycopg_errors.UniqueViolation:
                    raise DuplicateReading() from None
                if exc_type is None:
                    if self.direct:
                        self.created = self.written
                    else:
                        cursor = self._cursor_block.cursor
                        cursor.execute(
                            f"INSERT INTO {_TABLE} (sensor_id, timestamp, value) "  # noqa: S608
                            "SELECT sensor_id, timestamp, value FROM sensors_reading_in "
                            "ON CONFLICT (sensor_id, timestamp) DO NOTHING"
                        )
                        self.created = cursor.rowcount
                        cursor.execute("TRUNCATE sensors_reading_in")
            if exc_type is None and self._bounds:
                _lock_sensors_against_deletion(list(self._bounds))
                # In UTC: a parameter keeps its offset, and PostgreSQL refuses one with seconds
                # (+23:59:59.999999), which the parser accepts and binary COPY converts.
                ReadingMark.objects.bulk_create(
                    ReadingMark(
                        sensor_id=sensor_id,
                        min_timestamp=low.astimezone(UTC),
                        max_timestamp=high.astimezone(UTC),
                    )
                    for sensor_id, (low, high) in self._bounds.items()
                )
        finally:
            if self._cursor_block is not None:
                self._cursor_block.__exit__(None, None, None)
                self._cursor_block = None


def _lock_sensors_against_deletion(sensor_ids: list[int]) -> None:
    """Hold FOR KEY SHARE on the sensors until commit: what a foreign key would do, once.

    A sensor deleted meanwhile (its delete takes FOR UPDATE first) is a 409, and nothing of this
    write is kept, so no reading can outlive its sensor.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT id FROM sensors_sensor WHERE id = ANY(%s) FOR KEY SHARE", [sensor_ids]
            )
            found = {row[0] for row in cursor.fetchall()}
        else:
            found = set(Sensor.objects.filter(id__in=sensor_ids).values_list("id", flat=True))
    if len(found) != len(set(sensor_ids)):
        raise Conflict("A sensor was deleted while its readings were being stored; nothing was.")


def write_readings(produce: Callable[[ReadingWriter], None]) -> ReadingWriter:
    """Run ``produce(writer)`` inside a transaction and return the finished writer.

    The new rows are counted in ``targets_readings_ingested_total`` once they are committed.
    On PostgreSQL the first attempt COPYs straight into the table inside a savepoint: new data,
    the common case, costs one COPY. If any reading is already stored, the savepoint is rolled
    back and ``produce`` runs again through the temp table with ON CONFLICT DO NOTHING, so
    ``produce`` must be repeatable (re-read its file, re-send its rows).
    """
    with transaction.atomic():
        writer = _write_readings_once(produce)
        metrics.readings_ingested(writer.created)
        return writer


def _write_readings_once(produce: Callable[[ReadingWriter], None]) -> ReadingWriter:
    if connection.vendor == "postgresql":
        savepoint = transaction.savepoint()
        try:
            with ReadingWriter(direct=True) as writer:
                produce(writer)
        except DuplicateReading:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
            return writer
    with ReadingWriter() as writer:
        produce(writer)
    return writer


def readings_store(*, rows: Iterable[ReadingRow]) -> int:
    """Store validated ``(sensor_id, aware timestamp, finite value)`` rows; return how many new."""
    rows = list(rows)
    return write_readings(lambda writer: writer.write(rows)).created


def readings_ingest(
    *, payload: object, allowed_sensors: Collection[str] | None = None
) -> IngestResult:
    """Validate one reading or a list of them as a whole, then store all or nothing.

    Raises ``InvalidInput`` keyed by row index (field names for a single object), and
    ``TooLarge`` (``batch_too_large``) over 10,000 readings. With ``allowed_sensors`` (an API
    key limited to some sensors), a reading for any other sensor is ``PermissionDenied`` naming
    it, and nothing of the batch is stored.
    """
    batch = readings_batch(payload)  # a wrong shape is refused before any query
    known = _sensor_ids(batch)
    if allowed_sensors is not None:
        forbidden = sorted(set(known) - set(allowed_sensors))
        if forbidden:
            raise PermissionDenied(
                f"This API key may not write readings for sensor {', '.join(forbidden)}.",
                code="sensor_not_allowed",
                details={"sensor": [f"Not allowed for this key: {code}." for code in forbidden]},
            )
    created = _store_plain(batch, known)
    if created is None:
        rows = readings_from_json(payload, known=known)  # names each bad row, or all are good
        created = readings_store(rows=rows)
    return IngestResult(received=len(batch), created=created)


def _sensor_ids(batch: list[Any]) -> dict[str, int]:
    """Code -> id of the known sensors that ``batch`` names, in one query."""
    try:
        named = set(map(itemgetter("sensor"), batch))  # a C loop over the usual list of objects
    except (TypeError, KeyError):  # a row that is no object, names no sensor, or names a list
        named = {
            row["sensor"]
            for row in batch
            if isinstance(row, dict) and isinstance(row.get("sensor"), str)
        }
    codes = [code for code in named if isinstance(code, str) and len(code) <= 50]
    if not codes:
        return {}
    return dict(Sensor.objects.filter(code__in=codes).values_list("code", "id"))


class _NeedsTheRules(Exception):
    """A slice the fast check leaves to the rules: the streamed write is abandoned."""


def _store_plain(batch: list[Any], known: dict[str, int]) -> int | None:
    """Store ``batch`` while checking it slice by slice (``plain_readings_from_json``); return
    how many readings were new, or None, with nothing stored, when a row needs the rules."""
    checked: list[list[ReadingRow]] = []

    def produce(writer: ReadingWriter) -> None:
        # Run again through the temp table when a reading already exists: slices checked on the
        # first run are not checked twice.
        for index, start in enumerate(range(0, len(batch), _STREAM_CHUNK)):
            if index == len(checked):
                rows = plain_readings_from_json(batch[start : start + _STREAM_CHUNK], known=known)
                if rows is None:
                    raise _NeedsTheRules
                checked.append(rows)
            writer.write(checked[index])

    try:
        return write_readings(produce).created
    except _NeedsTheRules:
        return None
