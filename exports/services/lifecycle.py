"""The export record's life: request, validate, start, claim, cancel, and its one ending.

Every final status (succeeded or failed, whoever decides it) is written by ``export_finish``:
one conditional UPDATE, so a run, a cancel and an expired lease can never both end one export.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from exports.choices import TEXT_FORMATS, Format, Status, StorageKind
from exports.datasets import dataset_get, filters_clean
from exports.formats import WrittenFile
from exports.models import Export
from exports.notices import export_notify
from exports.services.leases import lease_deadline
from exports.storage import export_storage
from targets_site.errors import Conflict, DomainError, InvalidInput

logger = logging.getLogger("targets.exports")

ERROR_MAX_CHARS = 1000


class ExportAlreadyRunning(Conflict):
    """The same export (dataset, format, gzip, filters, storage) is running already."""


def export_fingerprint(
    *, dataset: str, fmt: str, compress: bool, filters: dict[str, Any], storage: str
) -> str:
    payload = json.dumps([dataset, fmt, compress, filters, storage], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def export_validate(
    *,
    dataset: str,
    fmt: str,
    compress: bool = False,
    filters: dict[str, Any] | None = None,
    storage: str | None = None,
) -> dict[str, Any]:
    """Check a request; return the model fields for it. InvalidInput names each bad part."""
    found = dataset_get(dataset)
    if fmt not in Format.values:
        raise InvalidInput.for_field(
            "format", f"Unknown format {fmt!r}; choose one of {', '.join(Format.values)}."
        )
    if compress and fmt not in TEXT_FORMATS:
        raise InvalidInput.for_field(
            "gzip", "Parquet compresses its own column chunks; gzip is for csv, json and jsonl."
        )
    storage = storage or settings.EXPORTS_STORAGE
    if storage not in StorageKind.values:
        raise InvalidInput.for_field("storage", f"Unknown storage {storage!r}; use local or s3.")
    cleaned = filters_clean(found, filters)
    try:
        export_storage(storage)
    except ImproperlyConfigured as exc:
        raise InvalidInput.for_field("storage", str(exc)) from None
    return {
        "dataset": found.name,
        "format": fmt,
        "gzip": bool(compress),
        "filters": cleaned,
        "storage": storage,
        "fingerprint": export_fingerprint(
            dataset=found.name, fmt=fmt, compress=bool(compress), filters=cleaned, storage=storage
        ),
    }


def export_request(*, requested_by: User | None = None, **request: Any) -> Export:
    """Record a pending export for a worker (``run_exports``) to run."""
    fields = export_validate(**request)
    return Export.objects.create(status=Status.PENDING, requested_by=requested_by, **fields)


def export_start(*, requested_by: User | None = None, **request: Any) -> Export:
    """Record an export already running, for a run in this process (``export_data``).

    Raises ExportAlreadyRunning, recording nothing, when the same export is running.
    """
    from exports.services.leases import leases_expire

    fields = export_validate(**request)
    leases_expire(fingerprint=fields["fingerprint"])
    now = timezone.now()
    try:
        with transaction.atomic():
            return Export.objects.create(
                status=Status.RUNNING,
                requested_by=requested_by,
                started_at=now,
                lease_expires_at=lease_deadline(now),
                **fields,
            )
    except IntegrityError:
        running = Export.objects.filter(
            fingerprint=fields["fingerprint"], status=Status.RUNNING
        ).first()
        which = f" (export #{running.pk})" if running else ""
        raise ExportAlreadyRunning(
            f"The same export is already running{which}; not starting a second run."
        ) from None


def export_claim_next() -> Export | None:
    """Claim the oldest pending export whose twin is not running; None when there is none.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets any number of workers claim side by side, each
    getting a different row; the conditional UPDATE also makes the claim exclusive on SQLite.
    """
    for _attempt in range(10):
        with transaction.atomic():
            running = Export.objects.filter(status=Status.RUNNING).values("fingerprint")
            candidate = (
                Export.objects.select_for_update(skip_locked=True)
                .filter(status=Status.PENDING)
                .exclude(fingerprint__in=running)
                .order_by("id")
                .only("id")
                .first()
            )
            if candidate is None:
                return None
            now = timezone.now()
            try:
                with transaction.atomic():
                    claimed = Export.objects.filter(pk=candidate.pk, status=Status.PENDING).update(
                        status=Status.RUNNING, started_at=now, lease_expires_at=lease_deadline(now)
                    )
            except IntegrityError:
                # Its twin started between our look and our update: leave it pending.
                continue
            if claimed:
                return Export.objects.get(pk=candidate.pk)
    return None


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no details"
    if isinstance(exc, DomainError):
        return text[
            :ERROR_MAX_CHARS
        ]  # already said for people, e.g. "S3 bucket 'x' does not exist"
    return f"{type(exc).__name__}: {text}"[:ERROR_MAX_CHARS]


def export_finish(
    *,
    export: Export,
    status: str,
    reason: str = "",
    written: WrittenFile | None = None,
    key: str | None = None,
    from_statuses: Iterable[str] = (Status.RUNNING,),
    condition: Q | None = None,
) -> bool:
    """Record an export's final status (``succeeded`` with its file, or ``failed`` with the
    reason) if it is still in ``from_statuses``; False when someone else ended it first.

    The one place an export ends: a run, a cancel and an expired lease all come through here,
    and so does anything that must happen exactly once when an export ends (notifications, and
    giving a failed scheduled run's window back to its schedule).
    """
    from exports.services.schedules import schedule_window_reopen

    now = timezone.now()
    fields: dict[str, Any] = {"status": status, "finished_at": now, "lease_expires_at": None}
    if status == Status.SUCCEEDED:
        assert written is not None
        fields.update(rows=written.rows, bytes=written.bytes, sha256=written.sha256, error="")
    else:
        fields["error"] = reason[:ERROR_MAX_CHARS]
    if key is not None:
        fields["key"] = key
    ending = Export.objects.filter(pk=export.pk, status__in=list(from_statuses))
    if condition is not None:
        ending = ending.filter(condition)
    with transaction.atomic():
        ended = bool(ending.update(**fields))
        if ended:
            ended_export = Export.objects.get(pk=export.pk)
            if status == Status.FAILED and ended_export.schedule_id is not None:
                # In the same transaction, so no failure path can leave its window unexported.
                lost = schedule_window_reopen(export=ended_export)
                if lost:
                    reason = f"{reason[: ERROR_MAX_CHARS - len(lost) - 1]} {lost}"
                    ended_export.error = reason
                    Export.objects.filter(pk=export.pk).update(error=reason)
            # In the same transaction: export.succeeded / export.failed is queued exactly when
            # the final status is written, never without it.
            export_notify(export=ended_export)
    if ended:
        logger.info("export %s %s %s", export.pk, status, reason)
    return ended


def export_cancel(*, export: Export, by: Any = None) -> Export:
    """Cancel a pending or running export: it is failed with the reason at once; a running
    worker notices at its next lease renewal, stops and removes its file."""
    who = f" by {by.get_username()}" if by is not None and hasattr(by, "get_username") else ""
    if not export_finish(
        export=export,
        status=Status.FAILED,
        reason=f"Cancelled{who}.",
        from_statuses=(Status.PENDING, Status.RUNNING),
    ):
        export.refresh_from_db()
        raise Conflict(
            f"Export #{export.pk} is {export.status}; "
            "only a pending or running export can be cancelled."
        )
    export.refresh_from_db()
    return export


def export_row_count(*, export: Export) -> int:
    return dataset_get(export.dataset).queryset(export.filters).count()
