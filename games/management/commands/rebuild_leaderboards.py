from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from games import services
from targets_site.progress import progress


class Command(BaseCommand):
    help = (
        "Recompute every leaderboard row (best score per player, mode, period and scope) from the "
        "stored scores, in one transaction. Needed only after scores were loaded or changed "
        "outside the API and the admin (e.g. a bulk import); boards stay readable meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Rows read and written per batch."
        )

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.perf_counter()
        try:
            written = services.leaderboard_rebuild(
                batch_size=batch_size,
                wrap=lambda rows, total: progress(
                    rows, stdout=self.stdout, total=total, desc="scores", unit="score"
                ),
            )
        except DatabaseError as exc:
            raise CommandError(f"Rebuild failed, nothing changed: {exc}") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt leaderboards: {written} rows in {elapsed:.1f} s.")
        )
