from __future__ import annotations

import signal
import time
from dataclasses import dataclass

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from exports import services
from exports.choices import Status
from exports.management.base import ExportsCommand

LEASE_EXPIRED = "its worker's lease expired."
REASON_MAX_CHARS = 160  # each reason in a line that lists several failures


@dataclass(frozen=True)
class Failure:
    export_id: int
    dataset: str  # "" for an expired lease (not looked up)
    reason: str
    ran: bool = True  # False: failed by its expired lease, not run by this pass

    def label(self) -> str:
        return f"#{self.export_id} {self.dataset}" if self.dataset else f"#{self.export_id}"

    def line(self) -> str:
        return f"{self.label()} failed: {' '.join(self.reason.split())}"

    def brief(self) -> str:
        reason = " ".join(self.reason.split())
        if len(reason) > REASON_MAX_CHARS:
            reason = reason[: REASON_MAX_CHARS - 1].rstrip() + "…"
        return f"{self.label()} ({reason})"


def failures_line(failures: list[Failure], *, handled: int) -> str:
    """One failure as its own line; several as one line listing each briefly."""
    if len(failures) == 1:
        return failures[0].line()
    listed = "; ".join(failure.brief() for failure in failures)
    return f"{len(failures)} of {handled} exports failed: {listed}"


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
            done, failures = self._run(loop=loop, interval=interval, max_exports=max_exports)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        failed = sum(1 for failure in failures if failure.ran)
        summary = f"Ran {done} exports: {done - failed} succeeded, {failed} failed."
        self.stdout.write(
            self.style.SUCCESS(summary) if not failed else self.style.WARNING(summary)
        )
        if failures and not loop:
            # Cron mails what a run prints: its failures are this one line (the exit status 1).
            raise CommandError(failures_line(failures, handled=done + len(failures) - failed))

    def _run(self, *, loop: bool, interval: float, max_exports: int) -> tuple[int, list[Failure]]:
        """Run until the queue is empty (or forever with ``loop``); return the number of exports
        run and every failure (theirs and the expired leases'). A worker (``loop``) says each
        failure on stderr as it happens; a single pass says them all in its one final line."""
        done = 0
        failures: list[Failure] = []

        def failing(failure: Failure) -> None:
            failures.append(failure)
            if loop:
                self.stderr.write(failure.line())

        while not self._stopping:
            try:
                for export_id in services.leases_expire():
                    failing(Failure(export_id, "", LEASE_EXPIRED, ran=False))
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
                failing(Failure(export.pk, export.dataset, export.error))
            if max_exports and done >= max_exports:
                break
        return done, failures

    def _stop(self, signum, frame) -> None:
        # Finish the export in hand, then stop: a killed run would leave it "running".
        self._stopping = True
