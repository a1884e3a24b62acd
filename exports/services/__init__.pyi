"""Export services; import from here (``from exports import services``)."""

from .leases import LEASE, RENEW_EVERY, LeaseKeeper, leases_expire
from .lifecycle import (
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
from .prune import PruneResult, exports_prune
from .runs import export_execute, export_key, export_run
from .schedules import schedule_save, schedule_validate, schedules_run_due

__all__ = [
    "LEASE",
    "RENEW_EVERY",
    "ExportAlreadyRunning",
    "LeaseKeeper",
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
]
