"""The export record's life: request, validate, lock, claim, fail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from exports.choices import Format, Status, StorageKind
from exports.datasets import dataset_get, filters_clean
from exports.models import Export
from exports.storage import export_storage
from targets_site.errors import Conflict, InvalidInput

# A running export whose heartbeat is older than this is taken to have died with its process.
STALE_AFTER = dt.timedelta(hours=1)
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
        raise InvalidInput(
            details={
                "format": [f"Unknown format {fmt!r}; choose one of {', '.join(Format.values)}."]
            }
        )
    storage = storage or settings.EXPORTS_STORAGE
    if storage not in StorageKind.values:
        raise InvalidInput(details={"storage": [f"Unknown storage {storage!r}; use local or s3."]})
    cleaned = filters_clean(found, filters)
    try:
        export_storage(storage)
    except ImproperlyConfigured as exc:
        raise InvalidInput(details={"storage": [str(exc)]}) from None
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


def _stale_runs_fail(*, fingerprint: str | None = None) -> int:
    """Mark running exports whose process stopped sending heartbeats as failed."""
    cutoff = timezone.now() - STALE_AFTER
    stale = Export.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff)
    if fingerprint is not None:
        stale = stale.filter(fingerprint=fingerprint)
    return stale.update(
        status=Status.FAILED,
        finished_at=timezone.now(),
        error=f"The run stopped sending heartbeats for over {STALE_AFTER}; its worker died.",
    )


def export_start(*, requested_by: User | None = None, **request: Any) -> Export:
    """Record an export already running, for a run in this process (``export_data``).

    Raises ExportAlreadyRunning, recording nothing, when the same export is running.
    """
    fields = export_validate(**request)
    _stale_runs_fail(fingerprint=fields["fingerprint"])
    now = timezone.now()
    try:
        with transaction.atomic():
            return Export.objects.create(
                status=Status.RUNNING,
                requested_by=requested_by,
                started_at=now,
                heartbeat_at=now,
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
    _stale_runs_fail()
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
                        status=Status.RUNNING, started_at=now, heartbeat_at=now
                    )
            except IntegrityError:
                # Its twin started between our look and our update: leave it pending.
                continue
            if claimed:
                return Export.objects.get(pk=candidate.pk)
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no details"
    return f"{type(exc).__name__}: {text}"[:ERROR_MAX_CHARS]


def export_fail(*, export: Export, reason: str) -> None:
    Export.objects.filter(pk=export.pk).exclude(status=Status.SUCCEEDED).update(
        status=Status.FAILED, error=reason, finished_at=timezone.now()
    )


def export_row_count(*, export: Export) -> int:
    return dataset_get(export.dataset).queryset(export.filters).count()
