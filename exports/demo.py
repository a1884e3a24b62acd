from __future__ import annotations

from typing import Any

from exports import services
from exports.choices import Status, StorageKind
from exports.models import Export


def demo_seed(*, stdout: Any) -> None:
    """One small CSV export of the catalogue to local disk, once (idempotent)."""
    if Export.objects.filter(dataset="items", status=Status.SUCCEEDED).exists():
        stdout.write("exports: demo export already there")
        return
    export = services.export_run(dataset="items", fmt="csv", storage=StorageKind.LOCAL)
    if export.status != Status.SUCCEEDED:
        stdout.write(f"exports: demo export failed: {export.error}")
        return
    stdout.write(f"exports: {export.rows} items exported to {export.key}")
