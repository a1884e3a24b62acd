"""What an export's end tells the notification outbox (exports calls notifications, never the
reverse). Called inside the transaction that records the final status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exports.choices import Status
from exports.models import Export
from notifications.services import notifications_enqueue


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_payload(export: Export) -> dict[str, Any]:
    return {
        "export": {
            "id": export.pk,
            "dataset": export.dataset,
            "format": export.format,
            "gzip": export.gzip,
            "filters": export.filters,
            "storage": export.storage,
            "status": export.status,
            "key": export.key,
            "rows": export.rows,
            "bytes": export.bytes,
            "sha256": export.sha256,
            "error": export.error,
            "created_at": _iso(export.created_at),
            "started_at": _iso(export.started_at),
            "finished_at": _iso(export.finished_at),
            "schedule": export.schedule_id,
        }
    }


def export_notify(*, export: Export) -> int:
    succeeded = export.status == Status.SUCCEEDED
    event = "export.succeeded" if succeeded else "export.failed"
    what = f"Export #{export.pk} ({export.dataset}.{export.format})"
    if succeeded:
        subject = f"{what} succeeded: {export.rows} rows"
    else:
        subject = f"{what} failed: {export.error}"
    return notifications_enqueue(
        event=event, subject=subject, payload=export_payload(export), source=f"export:{export.pk}"
    )
