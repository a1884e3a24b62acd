"""Leases: a running export's worker proves it is alive by renewing a lease while it works.

- ``LeaseKeeper`` (a thread beside the run, on its own database connection) pushes
  ``lease_expires_at`` forward every ``RENEW_EVERY`` — through the COPY stream and the upload
  alike, which the run's own thread cannot interrupt. When the renewal finds the export no longer
  running (cancelled, or failed after its lease expired) it sets ``cancelled``, and the run stops.
- ``leases_expire`` (``run_exports``, and ``export_data`` for its own twin) fails running exports
  whose lease expired — their worker died (``kill -9``, a lost machine) — with the reason, and
  removes the partial file such a worker left in the partial directory.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from exports.choices import Status
from exports.models import Export
from exports.storage import partial_dir

logger = logging.getLogger("targets.exports")

LEASE = dt.timedelta(minutes=2)
RENEW_EVERY = dt.timedelta(seconds=20)


def lease_deadline(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + LEASE


class LeaseKeeper:
    """Renews export ``export_id``'s lease until ``stop()``; ``cancelled`` is set when the
    export stopped being ``running`` under it."""

    def __init__(self, export_id: int) -> None:
        self.export_id = export_id
        self.cancelled = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"export-{export_id}-lease", daemon=True
        )

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._done.wait(RENEW_EVERY.total_seconds()):
                if not self.renew():
                    self.cancelled.set()
                    return
        finally:
            connection.close()  # this thread's own connection

    def renew(self) -> bool:
        """Push the lease on; False when the export is no longer running."""
        try:
            return bool(
                Export.objects.filter(pk=self.export_id, status=Status.RUNNING).update(
                    lease_expires_at=lease_deadline()
                )
            )
        except Exception:
            # The database is away: keep trying; if it stays away the lease expires and the
            # run is failed by run_exports, as it should be.
            logger.warning("export %s: could not renew its lease", self.export_id, exc_info=True)
            connection.close()
            return True


def leases_expire(*, fingerprint: str | None = None) -> list[int]:
    """Fail running exports whose lease has expired; remove their partial files. Returns ids."""
    from exports.services.lifecycle import export_finish

    now = timezone.now()
    expired = Export.objects.filter(status=Status.RUNNING, lease_expires_at__lt=now)
    if fingerprint is not None:
        expired = expired.filter(fingerprint=fingerprint)
    failed: list[int] = []
    for export in expired.only("pk", "lease_expires_at"):
        assert export.lease_expires_at is not None  # lease_expires_at__lt matched it
        expired_at = export.lease_expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        reason = (
            f"Its worker stopped renewing the lease (expired {expired_at} UTC): "
            "the process died or lost the database."
        )
        if export_finish(
            export=export,
            status=Status.FAILED,
            reason=reason,
            condition=Q(lease_expires_at__lt=now),
        ):
            failed.append(export.pk)
            partials_remove(export_id=export.pk)
    return failed


def partials_remove(*, export_id: int) -> None:
    for path in partial_dir().glob(f"export-{export_id}-*"):
        path.unlink(missing_ok=True)
