from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from exports import services
from exports.management.base import ExportsCommand


class Command(ExportsCommand):
    help = (
        "Delete finished exports older than --keep-days days: each stored file or object, then "
        "its record. Pending and running exports are never pruned."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keep-days", type=int, required=True, help="Keep exports younger than this (>= 0)."
        )

    def handle(self, *args, keep_days: int, **options) -> None:
        if keep_days < 0:
            raise CommandError("--keep-days must be 0 or more.")
        result = services.exports_prune(keep_days=keep_days)
        for line in result.failed:
            self.stderr.write(f"could not prune {line}")
        if result.failed:
            raise CommandError(
                f"Pruned {result.deleted} exports; {len(result.failed)} could not be deleted."
            )
        self.stdout.write(self.style.SUCCESS(f"Pruned {result.deleted} exports."))
