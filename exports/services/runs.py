"""Running an export: rows to a temp file (COPY or the Python writers), then to storage."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import Storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from storages.backends.s3 import S3Storage

from exports.choices import Format, Status
from exports.datasets import Dataset, dataset_get
from exports.formats import (
    WrittenFile,
    csv_header,
    file_copy_digest,
    file_digest,
    file_extension,
    rows_write,
)
from exports.models import Export
from exports.s3_upload import S3PipelinedUpload
from exports.services.lifecycle import _one_line, export_fail, export_start
from exports.storage import export_storage, local_partial_dir

logger = logging.getLogger("targets.exports")

HEARTBEAT_EVERY_S = 30.0

# ``progress(rows)`` is called with the number of rows written since its last call (a tqdm
# bar's ``update``), every ``PROGRESS_EVERY`` rows and at the end.
Progress = Callable[[int], Any]
PROGRESS_EVERY = 50_000


def export_key(export: Export) -> str:
    started = export.started_at or timezone.now()
    stamp = started.astimezone(dt.UTC)
    extension = file_extension(export.format, compress=export.gzip)
    return (
        f"exports/{export.dataset}/{stamp:%Y}/{stamp:%m}/"
        f"{export.dataset}-{stamp:%Y%m%dT%H%M%SZ}-{export.pk}.{extension}"
    )


class _Heartbeat:
    def __init__(self, export: Export) -> None:
        self.export = export
        self.last = time.monotonic()

    def beat(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= HEARTBEAT_EVERY_S:
            Export.objects.filter(pk=self.export.pk).update(heartbeat_at=timezone.now())
            self.last = now

    def through(self, rows: Iterable[Any]) -> Iterator[Any]:
        for index, row in enumerate(rows, 1):
            if index % 10_000 == 0:
                self.beat()
            yield row


def _copy_csv_into(
    write: Callable[[bytes], Any],
    dataset: Dataset,
    filters: dict[str, Any],
    progress: Progress | None,
) -> int:
    """Pass CSV rows from PostgreSQL's ``COPY (SELECT …) TO STDOUT`` to ``write``; return the
    row count.

    Reads through libpq directly into a C-buffered file: psycopg's ``Copy`` iterator, or any
    per-row Python work (hashing, batching), costs 3-4x the client CPU, and for a million rows
    the client, not the server, would set the pace.
    """
    from psycopg import pq  # only PostgreSQL installations reach this

    queryset = dataset.csv_copy_queryset(filters)
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.cursor() as cursor:
        statement = cursor.cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)
    pgconn = connection.connection.pgconn
    finished = False
    try:
        pgconn.send_query(statement.encode())
        result = pgconn.get_result()
        if result is None or result.status != pq.ExecStatus.COPY_OUT:
            message = pgconn.get_error_message() if result is None else result.error_message
            raise DatabaseError(_pg_text(message) or "COPY did not start.")
        get_copy_data = pgconn.get_copy_data
        length = 0
        if progress is None:
            while True:
                length, data = get_copy_data(0)  # blocking; one CSV row per message
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
            raise DatabaseError(_pg_text(pgconn.get_error_message()))
        result = pgconn.get_result()
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            raise DatabaseError(_pg_text(result.error_message if result else b"COPY failed."))
        while pgconn.get_result() is not None:
            pass
        finished = True
        return int(result.command_tuples or 0)
    finally:
        if not finished:
            # Mid-COPY, the connection cannot run anything else: drop it; Django reconnects.
            connection.close()


def _pg_text(message: bytes | str | None) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return " ".join((message or "").split())


def uses_postgres_copy(export: Export) -> bool:
    # The Python writer matches COPY's text for times only in a UTC session (Django's default).
    return (
        export.format == Format.CSV
        and connection.vendor == "postgresql"
        and connection.timezone_name == "UTC"
    )


def _counted(rows: Iterable[Any], progress: Progress) -> Iterator[Any]:
    count = 0
    for row in rows:
        yield row
        count += 1
        if count == PROGRESS_EVERY:
            progress(count)
            count = 0
    progress(count)


_FILE_BUFFER = 1024 * 1024


def _write_file(
    export: Export,
    path: Path,
    *,
    progress: Progress | None,
    heartbeat: _Heartbeat,
    force_python: bool = False,
) -> WrittenFile:
    """Write the export's rows to ``path`` (a new temp file); return rows, bytes and sha256."""
    dataset = dataset_get(export.dataset)
    if uses_postgres_copy(export) and not force_python:
        # Plain CSV first, at COPY speed; hashing (and gzip) in one pass over the finished file.
        plain = path.with_name(path.name + ".csv") if export.gzip else path
        try:
            with open(plain, "wb", buffering=_FILE_BUFFER) as out:
                out.write(csv_header(dataset.column_names))
                rows = _copy_csv_into(out.write, dataset, export.filters, progress)
            heartbeat.beat(force=True)
            if export.gzip:
                with open(plain, "rb") as source, open(path, "wb") as target:
                    size, sha256 = file_copy_digest(source=source, target=target, compress=True)
            else:
                size, sha256 = file_digest(path)
        finally:
            if plain != path:
                plain.unlink(missing_ok=True)
        return WrittenFile(rows=rows, bytes=size, sha256=sha256)
    rows_iter: Iterable[Any] = heartbeat.through(dataset.rows(export.filters))
    if progress is not None:
        rows_iter = _counted(rows_iter, progress)
    with open(path, "wb", buffering=_FILE_BUFFER) as target:
        return rows_write(
            target=target,
            fmt=export.format,
            columns=dataset.column_names,
            rows=rows_iter,
            compress=export.gzip,
        )


def _write_and_upload(
    export: Export,
    path: Path,
    *,
    storage: S3Storage,
    outcome: _Outcome,
    progress: Progress | None,
    heartbeat: _Heartbeat,
    force_python: bool,
) -> WrittenFile:
    """Write the rows to ``path`` while its finished parts already go up to S3 (a multipart
    upload that is completed only after the last row, and aborted on any failure)."""
    dataset = dataset_get(export.dataset)
    copy = uses_postgres_copy(export) and not force_python
    # COPY writes plain CSV at full speed; the gzip of the S3 path happens on the way up.
    with S3PipelinedUpload(
        storage=storage, key=outcome.key, path=path, compress=copy and export.gzip
    ) as upload:
        if copy:
            with open(path, "wb", buffering=_FILE_BUFFER) as out:
                out.write(csv_header(dataset.column_names))
                rows = _copy_csv_into(out.write, dataset, export.filters, progress)
            written = None
        else:
            rows_iter: Iterable[Any] = heartbeat.through(dataset.rows(export.filters))
            if progress is not None:
                rows_iter = _counted(rows_iter, progress)
            with open(path, "wb", buffering=_FILE_BUFFER) as target:
                written = rows_write(
                    target=target,
                    fmt=export.format,
                    columns=dataset.column_names,
                    rows=rows_iter,
                    compress=export.gzip,
                )
            rows = written.rows
        heartbeat.beat(force=True)
        upload.finish()
        if written is not None and (written.bytes, written.sha256) != (upload.bytes, upload.sha256):
            raise RuntimeError("The uploaded bytes differ from the written file.")
        outcome.saving = True
        upload.complete()
    return WrittenFile(rows=rows, bytes=upload.bytes, sha256=upload.sha256)


if TYPE_CHECKING:
    _BinaryFile = File[bytes]
else:
    _BinaryFile = File  # Django's File is generic only in its stubs


class _FinishedFile(_BinaryFile):
    """A finished temp file: FileSystemStorage moves it into place (one rename, never a
    half-written file at the final key); S3Storage uploads it from disk."""

    def temporary_file_path(self) -> str:
        if self.file is None:  # File allows none; this one is always built on an open temp file
            raise ValueError("The finished file is gone.")
        return str(self.file.name)


@dataclass
class _Outcome:
    key: str = ""
    saving: bool = False  # from here on, something may exist at the key and is ours


def export_execute(
    *,
    export: Export,
    progress: Progress | None = None,
    force_python: bool = False,
) -> Export:
    """Run a claimed (``running``) export to ``succeeded`` or ``failed``; never raises for a
    failed run: the reason is recorded on the export.

    The rows go to a temp file first and only the finished file is handed to storage, so a
    failure at any point leaves nothing at the final key. (Streaming into ``storage.open(key,
    "wb")`` would not: S3File completes the multipart upload on close, even after an error.)
    """
    heartbeat = _Heartbeat(export)
    outcome = _Outcome()
    storage = None
    temp_path: Path | None = None
    try:
        storage = export_storage(export.storage)
        outcome.key = export_key(export)
        Export.objects.filter(pk=export.pk).update(key=outcome.key)
        export.key = outcome.key
        if storage.exists(outcome.key):
            raise FileExistsError(f"{outcome.key} exists already; keys are never reused.")
        handle, name = tempfile.mkstemp(
            prefix=f"export-{export.pk}-", suffix=".part", dir=local_partial_dir(storage)
        )
        os.close(handle)
        temp_path = Path(name)
        if isinstance(storage, S3Storage):
            written = _write_and_upload(
                export,
                temp_path,
                storage=storage,
                outcome=outcome,
                progress=progress,
                heartbeat=heartbeat,
                force_python=force_python,
            )
        else:
            written = _write_file(
                export,
                temp_path,
                progress=progress,
                heartbeat=heartbeat,
                force_python=force_python,
            )
            _fsync(temp_path)
            heartbeat.beat(force=True)
            with open(temp_path, "rb") as finished:
                outcome.saving = True
                saved_name = storage.save(outcome.key, _FinishedFile(finished, name=outcome.key))
            if saved_name != outcome.key:
                outcome.key = saved_name  # never happens with fresh keys; never overwrite either
        now = timezone.now()
        with transaction.atomic():
            updated = Export.objects.filter(pk=export.pk, status=Status.RUNNING).update(
                status=Status.SUCCEEDED,
                key=outcome.key,
                rows=written.rows,
                bytes=written.bytes,
                sha256=written.sha256,
                finished_at=now,
                heartbeat_at=now,
                error="",
            )
            if not updated:
                raise RuntimeError("The export stopped being 'running' during the run.")
    except Exception as exc:
        logger.warning("export %s failed", export.pk, exc_info=True)
        _failure_clean(storage, outcome)
        try:
            export_fail(export=export, reason=_one_line(exc))
        except Exception:
            logger.error("export %s: could not record the failure", export.pk, exc_info=True)
            raise exc from None
    finally:
        if temp_path is not None:
            temp_path.unlink(missing_ok=True)
    export.refresh_from_db()
    return export


def _fsync(path: Path) -> None:
    """On disk before the record says "succeeded": a crash must not leave a short file."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _failure_clean(storage: Storage | None, outcome: _Outcome) -> None:
    """Remove whatever reached the final key: a file moved in, an upload that completed."""
    if storage is None or not outcome.saving:
        return
    try:
        if storage.exists(outcome.key):
            storage.delete(outcome.key)
    except Exception:
        logger.error("export cleanup: could not delete %s", outcome.key, exc_info=True)


def export_run(
    *, progress: Progress | None = None, requested_by: User | None = None, **request: Any
) -> Export:
    """Validate, lock and run one export in this process (``export_data``)."""
    export = export_start(requested_by=requested_by, **request)
    return export_execute(export=export, progress=progress)
