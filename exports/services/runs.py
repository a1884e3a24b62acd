"""Running an export: the producer writes a local file, the storage's publisher stores it."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from exports.choices import Status, StorageKind
from exports.models import Export
from exports.pipeline.produce import ExportCancelled, Progress, file_produce
from exports.pipeline.publish import Publisher, publisher_for
from exports.services.leases import LeaseKeeper
from exports.services.lifecycle import export_finish, export_start, one_line
from exports.storage import partial_dir

logger = logging.getLogger("targets.exports")


def export_key(export: Export) -> str:
    started = export.started_at or timezone.now()
    stamp = started.astimezone(dt.UTC)
    extension = f"{export.format}.gz" if export.gzip else export.format
    return (
        f"exports/{export.dataset}/{stamp:%Y}/{stamp:%m}/"
        f"{export.dataset}-{stamp:%Y%m%dT%H%M%SZ}-{export.pk}.{extension}"
    )


def export_execute(
    *,
    export: Export,
    progress: Progress | None = None,
    force_python: bool = False,
) -> Export:
    """Run a claimed (``running``) export to ``succeeded`` or ``failed``; never raises for a
    failed run (the reason is recorded on the export; the traceback goes to the log file).

    The rows go to a local file first and only the finished file is published, so a failure at
    any point leaves nothing at the final key. (Streaming into ``storage.open(key, "wb")`` would
    not: S3File completes the multipart upload on close, even after an error.)
    """
    keeper = LeaseKeeper(export.pk).start()
    publisher: Publisher | None = None
    key = ""
    publishing = False  # from here on, something may exist at the key and is ours
    temp_path: Path | None = None
    try:
        publisher = publisher_for(export.storage)
        key = export_key(export)
        Export.objects.filter(pk=export.pk).update(key=key)
        export.key = key
        _refuse_taken(publisher, key)
        handle, name = tempfile.mkstemp(
            prefix=f"export-{export.pk}-", suffix=".part", dir=partial_dir()
        )
        os.close(handle)
        temp_path = Path(name)
        written = file_produce(
            dataset_name=export.dataset,
            fmt=export.format,
            filters=export.filters,
            compress=export.gzip,
            path=temp_path,
            progress=progress,
            stop=keeper.cancelled,
            force_python=force_python,
        )
        if keeper.cancelled.is_set():
            raise ExportCancelled("The export was cancelled while it was being written.")
        if export.storage == StorageKind.LOCAL:
            _fsync(temp_path)
        _refuse_taken(publisher, key)
        publishing = True
        publisher.publish(temp_path, key)
        if not export_finish(export=export, status=Status.SUCCEEDED, written=written, key=key):
            raise RuntimeError(
                "The export stopped being 'running' during the run (cancelled, or failed after "
                "its lease expired)."
            )
    except BaseException as exc:
        logger.warning("export %s failed", export.pk, exc_info=True)
        if publishing and publisher is not None:
            _remove_quietly(publisher, key)
        try:
            # A cancelled export keeps its "Cancelled by ..." reason: it is no longer running.
            export_finish(export=export, status=Status.FAILED, reason=one_line(exc))
        except Exception:
            logger.error("export %s: could not record the failure", export.pk, exc_info=True)
            if isinstance(exc, Exception):
                raise exc from None
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, SystemExit: recorded and cleaned, then passed on
    finally:
        keeper.stop()
        if temp_path is not None:
            temp_path.unlink(missing_ok=True)
    export.refresh_from_db()
    return export


def _refuse_taken(publisher: Publisher, key: str) -> None:
    if publisher.exists(key):
        raise FileExistsError(f"{key} exists already; keys are never reused.")


def _fsync(path: Path) -> None:
    """On disk before the record says "succeeded": a crash must not leave a short file."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _remove_quietly(publisher: Publisher, key: str) -> None:
    """Remove whatever reached the final key: a file moved in, an upload that completed."""
    try:
        publisher.remove(key)
    except Exception:
        logger.error("export cleanup: could not delete %s", key, exc_info=True)


def export_run(
    *, progress: Progress | None = None, requested_by: User | None = None, **request: Any
) -> Export:
    """Validate, lock and run one export in this process (``export_data``)."""
    export = export_start(requested_by=requested_by, **request)
    return export_execute(export=export, progress=progress)
