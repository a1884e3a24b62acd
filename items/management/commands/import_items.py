from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from items import services
from items.importers import FORMATS, ImportFormatError, format_for, read_rows
from targets_site.errors import DomainError
from targets_site.progress import progress

MAX_REPORTED_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Import items from a CSV, JSON (one array) or JSON Lines file. Every row is validated "
        "first; any error is reported with its line number and nothing is written. A row whose "
        "sku exists updates that item; other rows create items."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path to the file to import.")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="File format (default: from the extension .csv, .json, .jsonl).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")

    def handle(self, *args, file: Path, format: str | None, dry_run: bool, **options) -> None:
        fmt = format or format_for(file.name)
        if fmt is None:
            raise CommandError(f"Cannot tell the format of {file}; pass --format csv|json|jsonl.")
        if not file.is_file():
            raise CommandError(f"{file} does not exist or is not a file.")

        # DRF validates the rows; imported here so that `import_items --help` starts without it.
        from items.serializers import ItemImportSerializer

        valid: list[tuple[int, dict]] = []
        errors: list[str] = []
        try:
            with file.open(encoding="utf-8", newline="") as stream:
                rows = progress(read_rows(stream, fmt), stdout=self.stdout, desc="validating")
                for line, row in rows:
                    serializer = ItemImportSerializer(data=row)
                    if serializer.is_valid():
                        valid.append((line, dict(serializer.validated_data)))
                        continue
                    for field, messages in serializer.errors.items():
                        for message in messages:
                            errors.append(f"line {line}: {field}: {message}")
        except ImportFormatError as exc:
            raise CommandError(f"{file}: {exc}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text.") from None

        errors.extend(_duplicate_sku_errors(valid))
        if errors:
            for message in errors[:MAX_REPORTED_ERRORS]:
                self.stderr.write(message)
            more = len(errors) - MAX_REPORTED_ERRORS
            if more > 0:
                self.stderr.write(f"... and {more} more errors")
            raise CommandError(f"{len(errors)} errors in {file}; nothing was imported.")

        if dry_run:
            self.stdout.write(f"{len(valid)} rows valid; nothing written (--dry-run).")
            return
        try:
            summary = services.items_import(rows=[row for _, row in valid])
        except DomainError as err:
            raise CommandError(str(err)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(valid)} items from {file}: "
                f"{summary.created} created, {summary.updated} updated."
            )
        )


def _duplicate_sku_errors(rows: list[tuple[int, dict]]) -> list[str]:
    first_line: dict[str, int] = {}
    errors = []
    for line, row in rows:
        sku = row.get("sku")
        if not sku:
            continue
        if sku in first_line:
            errors.append(f"line {line}: sku: {sku!r} already appears on line {first_line[sku]}")
        else:
            first_line[sku] = line
    return errors
