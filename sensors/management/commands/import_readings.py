from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensors.services import readings_import
from sensors.services.importing import ReadingsImportError
from targets_site.errors import DomainError
from targets_site.progress import progress_counter


class Command(BaseCommand):
    # The system checks import every URLconf and view (pandas, matplotlib...): seconds of
    # start-up on each cron run for nothing; `manage.py check --deploy` is where they belong.
    requires_system_checks: list[str] = []
    help = (
        "Import readings from a CSV file, streamed, all or nothing. Long format: header "
        "'timestamp,sensor,value'; wide format: 'timestamp,<code>,<code>...' (an empty cell is no "
        "reading). Timestamps are ISO-8601 with a UTC offset. Bad rows are reported by line "
        "number and nothing is stored. Readings already stored (same sensor and time) are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file to import ('-' is not supported).")
        parser.add_argument(
            "--max-errors",
            type=int,
            default=20,
            help="Stop after reporting this many bad rows (default 20).",
        )

    def handle(self, *args, file: Path, max_errors: int, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file} does not exist or is not a file.")
        if max_errors < 1:
            raise CommandError("--max-errors must be at least 1.")
        try:
            with (
                progress_counter(stdout=self.stdout, desc="importing", unit=" lines") as advance,
                file.open(encoding="utf-8", newline="") as stream,
            ):
                summary = readings_import(stream=stream, max_errors=max_errors, on_lines=advance)
        except ReadingsImportError as exc:
            for line, message in exc.errors:
                self.stderr.write(f"{file}:{line}: {message}")
            more = " (stopped early)" if exc.truncated else ""
            raise CommandError(
                f"{len(exc.errors)} bad rows in {file}{more}; nothing was imported."
            ) from None
        except DomainError as err:
            raise CommandError(str(err)) from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text (byte {exc.start}).") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {file} ({summary.layout} format): {summary.lines} lines, "
                f"{summary.readings} readings, {summary.created} new, "
                f"{summary.readings - summary.created} already stored."
            )
        )
