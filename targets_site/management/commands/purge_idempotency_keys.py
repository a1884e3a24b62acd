from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from targets_site.services import idempotency_purge


class Command(BaseCommand):
    # Run from cron: skip the system checks (they import every URLconf and view).
    requires_system_checks: list[str] = []
    help = (
        "Delete expired Idempotency-Key records (older than 24 h). Cron, e.g. hourly; safe on "
        "several machines at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Rows deleted per transaction (default 5000).",
        )

    def handle(self, *args, batch_size: int, verbosity: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            deleted = idempotency_purge(batch_size=batch_size)
        except DatabaseError as exc:
            raise CommandError(f"could not purge idempotency keys: {exc}") from None
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} expired idempotency keys."))
