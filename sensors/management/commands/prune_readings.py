from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from sensors.services.retention import PRUNE_CHUNK, readings_prune
from targets_site.errors import DomainError
from targets_site.progress import progress_counter


class Command(BaseCommand):
    # Run from cron: skip the system checks (they import every URLconf and view).
    requires_system_checks: list[str] = []
    help = (
        "Remove raw readings older than --keep-days days. On PostgreSQL whole monthly partitions "
        "are detached and dropped and only the boundary month is deleted row by row (in chunks); "
        "on SQLite old rows are deleted in chunks. Alerts and rollups are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keep-days",
            type=int,
            required=True,
            metavar="N",
            help="Keep the readings of the last N days (N >= 1).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only report what would be removed."
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=PRUNE_CHUNK,
            metavar="ROWS",
            help=f"Rows deleted per statement outside dropped partitions (default {PRUNE_CHUNK}).",
        )

    def handle(self, *args, keep_days: int, dry_run: bool, chunk_size: int, **options) -> None:
        try:
            with progress_counter(stdout=self.stdout, desc="Pruning", unit="readings") as advance:
                result = readings_prune(
                    keep_days=keep_days, dry_run=dry_run, chunk_size=chunk_size, advance=advance
                )
        except DomainError as err:
            raise CommandError(str(err)) from None
        except DatabaseError as exc:
            raise CommandError(f"Pruning failed: {exc}".splitlines()[0]) from None
        verb_drop, verb_delete = (
            ("Would drop", "would delete") if dry_run else ("Dropped", "deleted")
        )
        if options["verbosity"] >= 1:
            for partition in result.dropped:
                self.stdout.write(
                    f"{verb_drop} partition {partition.name} "
                    f"(about {partition.estimated_rows:,} readings)."
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Readings before {result.cutoff:%Y-%m-%d %H:%M:%S} UTC: "
                f"{verb_drop.lower()} {len(result.dropped)} partitions, "
                f"{verb_delete} {result.deleted:,} rows."
            )
        )
