from __future__ import annotations

import signal
import time

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from exports import services
from exports.choices import Status
from exports.management.base import ExportsCommand


class Command(ExportsCommand):
    help = (
        "Run exports: first fail running exports whose lease expired (their worker died) and "
        "request the due runs of export schedules, then run pending exports. Each is claimed "
        "with SELECT ... FOR UPDATE SKIP LOCKED, so any number of workers on any number of "
        "machines can run this without running one export (or one scheduled run) twice. Once "
        "through the queue by default (cron); --loop keeps polling as a worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running; poll when idle.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between polls with --loop."
        )
        parser.add_argument(
            "--max-exports", type=int, default=0, help="Stop after this many exports (0: no limit)."
        )

    def handle(self, *args, loop: bool, interval: float, max_exports: int, **options) -> None:
        if interval <= 0 or max_exports < 0:
            raise CommandError("--interval must be > 0 and --max-exports >= 0.")
        self._stopping = False
        previous = {}
        if loop:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._stop)
        try:
            done, failed = self._run(loop=loop, interval=interval, max_exports=max_exports)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        summary = f"Ran {done} exports: {done - failed} succeeded, {failed} failed."
        self.stdout.write(
            self.style.SUCCESS(summary) if not failed else self.style.WARNING(summary)
        )
        if failed and not loop:
            raise CommandError(f"{failed} of {done} exports failed.")

    def _run(self, *, loop: bool, interval: float, max_exports: int) -> tuple[int, int]:
        done = failed = 0
        while not self._stopping:
            try:
                for export_id in services.leases_expire():
                    self.stderr.write(f"#{export_id} failed: its worker's lease expired.")
                for requested in services.schedules_run_due():
                    self.stdout.write(
                        f"schedule {requested.schedule_id}: requested export #{requested.pk}"
                        f" ({requested.status})"
                    )
                export = services.export_claim_next()
            except DatabaseError as exc:
                if not loop:
                    raise CommandError(f"Database error: {' '.join(str(exc).split())}") from None
                self.stderr.write(f"database unavailable, retrying: {exc}")
                close_old_connections()
                time.sleep(interval)
                continue
            if export is None:
                if not loop:
                    break
                time.sleep(interval)
                continue
            export = services.export_execute(export=export)
            done += 1
            if export.status == Status.SUCCEEDED:
                self.stdout.write(
                    f"#{export.pk} {export.dataset}: {export.key} rows={export.rows} "
                    f"bytes={export.bytes} sha256={export.sha256}"
                )
            else:
                failed += 1
                self.stderr.write(f"#{export.pk} {export.dataset} failed: {export.error}")
            if max_exports and done >= max_exports:
                break
        return done, failed

    def _stop(self, signum, frame) -> None:
        # Finish the export in hand, then stop: a killed run would leave it "running".
        self._stopping = True
