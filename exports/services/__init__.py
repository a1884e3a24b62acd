"""Export services; import from here (``from exports import services``)."""

from __future__ import annotations

from exports.pipeline.produce import PROGRESS_EVERY, ExportCancelled, Progress, uses_postgres_copy
from exports.services.leases import LEASE, RENEW_EVERY, LeaseKeeper, leases_expire
from exports.services.lifecycle import (
    ExportAlreadyRunning,
    export_cancel,
    export_claim_next,
    export_fingerprint,
    export_finish,
    export_request,
    export_row_count,
    export_start,
    export_validate,
    one_line,
)
from exports.services.prune import PruneResult, exports_prune
from exports.services.runs import export_execute, export_key, export_run
from exports.services.schedules import schedule_save, schedule_validate, schedules_run_due

__all__ = [
    "LEASE",
    "PROGRESS_EVERY",
    "RENEW_EVERY",
    "ExportAlreadyRunning",
    "ExportCancelled",
    "LeaseKeeper",
    "Progress",
    "PruneResult",
    "export_cancel",
    "export_claim_next",
    "export_execute",
    "export_fingerprint",
    "export_finish",
    "export_key",
    "export_request",
    "export_row_count",
    "export_run",
    "export_start",
    "export_validate",
    "exports_prune",
    "leases_expire",
    "one_line",
    "schedule_save",
    "schedule_validate",
    "schedules_run_due",
    "uses_postgres_copy",
]
