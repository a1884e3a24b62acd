from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from notifications import services
from notifications.services import DeliveryRun
from notifications.services.delivery import DEFAULT_BATCH, DEFAULT_TIMEOUT_S
from notifications.transport import Transport


class Command(BaseCommand):
    # Started by cron every minute or kept running with --loop: skip the seconds of system
    # checks (they import every view); `manage.py check --deploy` is where they belong.
    requires_system_checks: list[str] = []
    help = (
        "Send due notifications (webhooks and email) from the outbox: claims rows with "
        "FOR UPDATE SKIP LOCKED, so any number of workers can run side by side; failures are "
        "retried with exponential backoff and jitter, and a row is dead after its last attempt. "
        "Without --loop, sends until nothing is due and exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running: poll for due notifications every --interval seconds.",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help="Seconds between polls when nothing is due (with --loop; default 2).",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=DEFAULT_BATCH,
            help=f"Rows claimed at a time (default {DEFAULT_BATCH}).",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT_S,
            help=f"Seconds one send may take (default {DEFAULT_TIMEOUT_S:g}).",
        )

    def handle(
        self, *args, loop: bool, interval: float, batch: int, timeout: float, **options
    ) -> None:
        if batch < 1 or batch > 1000:
            raise CommandError("--batch must be between 1 and 1000.")
        if not 0 < timeout <= 300:
            raise CommandError("--timeout must be more than 0 and at most 300 seconds.")
        if interval <= 0:
            raise CommandError("--interval must be more than 0.")
        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True  # finish the batch in hand (its results get recorded), then exit

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        total = DeliveryRun()
        try:
            with Transport(timeout=timeout) as transport:
                while not stopping:
                    run = services.notifications_deliver_due(
                        batch=batch, timeout=timeout, transport=transport
                    )
                    total.add(run)
                    if run.claimed and options["verbosity"] >= 2:
                        self.stdout.write(
                            f"Batch: {run.sent} sent, {run.failed} to retry, {run.dead} dead."
                        )
                    if run.claimed:
                        continue
                    if not loop:
                        break
                    close_old_connections()
                    time.sleep(interval)
        except DatabaseError as exc:
            raise CommandError(f"Delivery stopped: {exc}".splitlines()[0]) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Notifications: {total.sent} sent, {total.failed} to retry, {total.dead} dead."
            )
        )
