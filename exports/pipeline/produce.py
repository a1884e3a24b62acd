"""The producer: an export's rows into a local file, in its format, with rows, bytes and sha256.

On PostgreSQL (in a UTC session) the database writes the text itself — ``COPY (SELECT …) TO
STDOUT`` of the SQL in ``exports.datasets.sql`` — and the client only moves bytes into a
C-buffered file: CSV, JSON and JSON Lines alike; Parquet converts COPY's plain CSV in pyarrow.
Elsewhere (SQLite) the ORM streams rows ``CHUNK_SIZE`` at a time into the Python writers, which
write the same bytes (tested). Either way memory stays flat whatever the row count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from contextlib import closing
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection

from exports.choices import Format
from exports.datasets import Dataset, dataset_get, sql
from exports.formats import (
    WrittenFile,
    csv_header,
    file_copy_digest,
    file_digest,
    hashed_file,
    rows_write,
)

# ``progress(rows)`` is called with the number of rows written since its last call (a tqdm
# bar's ``update``), every ``PROGRESS_EVERY`` rows and at the end.
Progress = Callable[[int], Any]
PROGRESS_EVERY = 50_000

_FILE_BUFFER = 1024 * 1024


class ExportCancelled(Exception):
    """The export was cancelled (or failed by someone else) while it was being written."""


def uses_postgres_copy() -> bool:
    # The Python writers match the database's text for times only in a UTC session (Django's
    # default) with ISO dates (PostgreSQL's default DateStyle, which Django does not change).
    if connection.vendor != "postgresql" or connection.timezone_name != "UTC":
        return False
    connection.ensure_connection()
    date_style = connection.connection.info.parameter_status("DateStyle") or ""
    return date_style.upper().startswith("ISO")


def file_produce(
    *,
    dataset_name: str,
    fmt: str,
    filters: dict[str, Any],
    compress: bool,
    path: Path,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    force_python: bool = False,
) -> WrittenFile:
    """Write the rows to ``path`` (a new file); return rows, bytes and sha256 of what is there."""
    dataset = dataset_get(dataset_name)
    stop = stop or threading.Event()
    if uses_postgres_copy() and not force_python:
        return _produce_with_copy(dataset, fmt, filters, compress, path, progress, stop)
    # Closed on the way out, failure included: the traceback would keep the rows' cursor open,
    # and on SQLite its read snapshot then refuses the write that records the failure
    # ("database is locked") once the lease keeper has written since.
    with closing(_watched(dataset.rows(filters), progress, stop)) as rows:
        if fmt == Format.PARQUET:
            from exports.parquet import parquet_from_rows

            count = parquet_from_rows(path, parquet_schema(dataset), rows)
            size, sha256 = file_digest(path)
            return WrittenFile(rows=count, bytes=size, sha256=sha256)
        with open(path, "wb", buffering=_FILE_BUFFER) as target:
            return rows_write(
                target=target, fmt=fmt, columns=dataset.column_names, rows=rows, compress=compress
            )


def parquet_schema(dataset: Dataset):
    from exports.parquet import arrow_schema, arrow_type

    return arrow_schema(
        [
            (column.name, arrow_type(column.kind, dataset.decimal_digits(column)))
            for column in dataset.columns
        ]
    )


def _produce_with_copy(
    dataset: Dataset,
    fmt: str,
    filters: dict[str, Any],
    compress: bool,
    path: Path,
    progress: Progress | None,
    stop: threading.Event,
) -> WrittenFile:
    # Plain text first, at COPY speed, hashed as it is written; gzip and Parquet are made from
    # it in one pass over the finished file.
    plain = path.with_name(path.name + ".plain") if compress or fmt == Format.PARQUET else path
    try:
        with hashed_file(plain, hold_tail=2 if fmt == Format.JSON else 0) as (out, digest):
            if fmt == Format.CSV:
                out.write(csv_header(dataset.column_names))
                rows = copy_into(out.write, sql.csv_queryset(dataset, filters), progress, stop)
            elif fmt == Format.JSONL:
                rows = copy_into(
                    out.write,
                    sql.json_queryset(dataset, filters),
                    progress,
                    stop,
                    one_text_column=True,
                )
            elif fmt == Format.JSON:
                rows = _json_array_copy(out, dataset, filters, progress, stop)
            else:
                rows = copy_into(out.write, sql.raw_queryset(dataset, filters), progress, stop)
        if fmt == Format.PARQUET:
            from exports.parquet import parquet_from_csv

            parquet_from_csv(path, parquet_schema(dataset), plain)
            size, sha256 = file_digest(path)
        elif compress:
            with open(plain, "rb") as source, open(path, "wb") as target:
                size, sha256 = file_copy_digest(source=source, target=target, compress=True)
        else:
            size, sha256 = digest.bytes_written, digest.sha256
    finally:
        if plain != path:
            plain.unlink(missing_ok=True)
    return WrittenFile(rows=rows, bytes=size, sha256=sha256)


def _json_array_copy(out, dataset, filters, progress, stop) -> int:
    """``[`` + the JSON Lines joined by ``,\\n`` + ``]``, as the Python JSON writer writes it.

    The database ends every element with ``,`` (COPY adds the newline), so each row goes to the
    file as it comes, like JSON Lines; ``out`` holds the last two bytes back (see
    ``hashed_file``): the last element's ``,\\n`` becomes ``\\n]\\n``, and with no rows
    ``[\\n`` becomes ``[]\\n``. (Writing ``[`` or ``,`` before each row from Python cost
    ~0.15 s per 1M rows.)"""
    out.write(b"[\n")
    rows = copy_into(
        out.write,
        sql.json_queryset(dataset, filters, element_end=","),
        progress,
        stop,
        one_text_column=True,
    )
    out.flush()
    if rows:
        out.raw.end(b",\n", b"\n]\n")
    else:
        out.raw.end(b"[\n", b"[]\n")
    return rows


def copy_into(
    write: Callable[[Any], Any],
    queryset,
    progress: Progress | None,
    stop: threading.Event,
    *,
    one_text_column: bool = False,
) -> int:
    """Pass the rows of ``COPY (queryset) TO STDOUT`` to ``write``, one line each; return the count.

    Reads through libpq directly: psycopg's ``Copy`` iterator, or any per-row Python work, costs
    3-4x the client CPU, and for a million rows the client, not the server, would set the pace.
    One-column SELECTs (JSON) are written as CSV with quote and delimiter characters that JSON
    text never holds raw, so COPY adds no quoting or escaping to the lines the database built.
    """
    from psycopg import pq  # only PostgreSQL installations reach this

    sql_text, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    options = "FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02'" if one_text_column else "FORMAT csv"
    with connection.cursor() as cursor:
        statement = cursor.cursor.mogrify(f"COPY ({sql_text}) TO STDOUT WITH ({options})", params)
    pgconn = connection.connection.pgconn
    # A cancel (the lease keeper's, from another thread) interrupts a COPY in the server.
    cancel = _CopyCanceller(connection.connection, stop)
    finished = False
    try:
        pgconn.send_query(statement.encode())
        result = pgconn.get_result()
        if result is None or result.status != pq.ExecStatus.COPY_OUT:
            message = pgconn.get_error_message() if result is None else result.error_message
            raise DatabaseError(_pg_text(message) or "COPY did not start.")
        get_copy_data = pgconn.get_copy_data
        length = 0
        with cancel:
            if progress is None:
                while True:
                    length, data = get_copy_data(0)  # blocking; one row per message
                    if length <= 0:
                        break
                    write(data)
            else:
                count = 0
                while True:
                    length, data = get_copy_data(0)
                    if length <= 0:
                        break
                    write(data)
                    count += 1
                    if count == PROGRESS_EVERY:
                        progress(count)
                        count = 0
                progress(count)
        if length == -2:
            if stop.is_set():
                raise ExportCancelled("The export was cancelled while it was being written.")
            raise DatabaseError(_pg_text(pgconn.get_error_message()))
        result = pgconn.get_result()
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            if stop.is_set():
                raise ExportCancelled("The export was cancelled while it was being written.")
            raise DatabaseError(_pg_text(result.error_message if result else b"COPY failed."))
        while pgconn.get_result() is not None:
            pass
        finished = True
        return int(result.command_tuples or 0)
    finally:
        if not finished:
            # Mid-COPY, the connection cannot run anything else: drop it; Django reconnects.
            connection.close()


class _CopyCanceller:
    """While a COPY runs, a set ``stop`` event cancels it in the server (from a helper thread)."""

    def __init__(self, pg_connection, stop: threading.Event) -> None:
        self.pg_connection = pg_connection
        self.stop = stop
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="export-copy-cancel", daemon=True)

    def _watch(self) -> None:
        while not self.done.wait(0.2):
            if self.stop.is_set():
                self.pg_connection.cancel_safe()
                return

    def __enter__(self) -> _CopyCanceller:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.done.set()
        self.thread.join()


def _pg_text(message: bytes | str | None) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return " ".join((message or "").split())


def _watched(
    rows: Generator[Any], progress: Progress | None, stop: threading.Event
) -> Generator[Any]:
    """Rows passed through, reporting progress every ``PROGRESS_EVERY`` and stopping on
    ``stop`` (an Event check costs little next to the ORM's work per row). ``rows`` is closed
    when this is (its cursor with it), or when the export is cancelled."""
    count = 0
    stopped = stop.is_set
    with closing(rows):
        for row in rows:
            if stopped():
                raise ExportCancelled("The export was cancelled while it was being written.")
            yield row
            count += 1
            if count == PROGRESS_EVERY:
                if progress is not None:
                    progress(count)
                count = 0
    if progress is not None:
        progress(count)
