"""Pruning old exports: the stored file or object, then the record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from exports.choices import Status
from exports.models import Export
from exports.services.leases import LEASE
from exports.services.lifecycle import one_line
from exports.storage import export_storage, partial_dir
from targets_site.errors import InvalidInput


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    failed: list[str]


def exports_prune(*, keep_days: int) -> PruneResult:
    """Delete finished exports older than ``keep_days`` days: the object first, then the record
    (a record whose object could not be deleted is kept, so it can be pruned again later)."""
    if keep_days < 0:
        raise InvalidInput.for_field("keep_days", "Must be 0 or more.")
    cutoff = timezone.now() - dt.timedelta(days=keep_days)
    old = Export.objects.filter(
        created_at__lt=cutoff, status__in=[Status.SUCCEEDED, Status.FAILED]
    ).order_by("id")
    deleted = 0
    failed: list[str] = []
    for export in old.iterator(chunk_size=500):
        try:
            if export.key:
                storage = export_storage(export.storage)
                if storage.exists(export.key):
                    storage.delete(export.key)
            export.delete()
            deleted += 1
        except Exception as exc:
            failed.append(f"#{export.pk} {export.key}: {one_line(exc)}")
    _partials_prune(cutoff=min(cutoff, timezone.now() - LEASE))
    return PruneResult(deleted=deleted, failed=failed)


def _partials_prune(*, cutoff: dt.datetime) -> None:
    """Temp files a killed process left in the ``.partial`` directory (of any export: those of
    this machine's dead workers whose records another machine failed, too)."""
    try:
        partial = partial_dir()
    except OSError:
        return
    for path in partial.glob("export-*"):
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
        if modified < cutoff:
            path.unlink(missing_ok=True)
