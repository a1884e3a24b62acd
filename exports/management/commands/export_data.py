from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from exports import services
from exports.choices import DATASET_NAMES, Format, Status, StorageKind
from exports.management.base import ExportsCommand
from targets_site.progress import progress_counter


class Command(ExportsCommand):
    help = (
        "Export a dataset (items, sensors, readings, alerts, scores) as CSV, JSON, JSON Lines or "
        "Parquet to the export storage under a new key; prints the key, rows, bytes and sha256. "
        "A second run of the same export while one is running does not start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", help=f"One of: {', '.join(DATASET_NAMES)}.")
        parser.add_argument(
            "--format", default=Format.CSV, help="csv (default), json, jsonl or parquet."
        )
        parser.add_argument("--gzip", action="store_true", help="Compress a text format.")
        parser.add_argument(
            "--since", help="Only rows at or after this ISO date/time (with an offset, e.g. Z)."
        )
        parser.add_argument("--until", help="Only rows before this ISO date/time.")
        parser.add_argument("--sensor", help="Only this sensor's rows (sensors, readings, alerts).")
        parser.add_argument("--mode", help="Only this game mode's scores (scores).")
        parser.add_argument(
            "--storage",
            choices=StorageKind.values,
            help=f"Where the file goes (default: EXPORTS_STORAGE, now {settings.EXPORTS_STORAGE}).",
        )

    def handle(self, *args, dataset: str, format: str, gzip: bool, storage: str | None, **options):
        filters = {name: options[name] for name in ("since", "until", "sensor", "mode")}
        # A bar on a terminal only (to stderr, so stdout stays the parseable summary).
        with progress_counter(stdout=self.stdout, desc=f"export {dataset}", unit="row") as advance:
            export = services.export_run(
                dataset=dataset,
                fmt=format,
                compress=gzip,
                filters={key: value for key, value in filters.items() if value is not None},
                storage=storage,
                progress=advance,
            )

        if export.status != Status.SUCCEEDED:
            raise CommandError(f"Export #{export.pk} failed: {export.error}")
        if options["verbosity"] >= 1:
            self.stdout.write(f"key: {export.key}")
            self.stdout.write(f"rows: {export.rows}")
            self.stdout.write(f"bytes: {export.bytes}")
            self.stdout.write(f"sha256: {export.sha256}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Export #{export.pk} of {export.dataset} succeeded in {export.duration_ms} ms "
                f"({export.storage} storage)."
            )
        )
