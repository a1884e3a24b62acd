"""Export services; import from here (``from exports import services``)."""

from __future__ import annotations

from exports.services.lifecycle import (
    STALE_AFTER,
    ExportAlreadyRunning,
    export_claim_next,
    export_fail,
    export_fingerprint,
    export_request,
    export_row_count,
    export_start,
    export_validate,
)
from exports.services.prune import PruneResult, exports_prune
from exports.services.runs import (
    PROGRESS_EVERY,
    Progress,
    export_execute,
    export_key,
    export_run,
    uses_postgres_copy,
)

__all__ = [
    "PROGRESS_EVERY",
    "STALE_AFTER",
    "ExportAlreadyRunning",
    "Progress",
    "PruneResult",
    "export_claim_next",
    "export_execute",
    "export_fail",
    "export_fingerprint",
    "export_key",
    "export_request",
    "export_row_count",
    "export_run",
    "export_start",
    "export_validate",
    "exports_prune",
    "uses_postgres_copy",
]
