from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from sensors.models import Sensor
from sensors.services import alerts_evaluate
from sensors.services.retention import readings_partitions_ensure


class Command(BaseCommand):
    # The system checks import every URLconf and view (pandas, matplotlib...): seconds of
    # start-up on each cron run for nothing; `manage.py check --deploy` is where they belong.
    requires_system_checks: list[str] = []
    help = (
        "Evaluate the readings stored since the last run against each active sensor's thresholds "
        "and open or close alerts. Idempotent (a second run changes nothing), handles late "
        "readings, and safe to run from cron on several machines at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sensor",
            action="append",
            dest="sensors",
            metavar="CODE",
            help="Only this sensor (repeatable). Default: every active sensor.",
        )

    def handle(self, *args, sensors: list[str] | None, **options) -> None:
        if sensors:
            known = set(Sensor.objects.filter(code__in=sensors).values_list("code", flat=True))
            unknown = sorted(set(sensors) - known)
            if unknown:
                raise CommandError(f"Unknown sensor codes: {', '.join(unknown)}.")
        try:
            # Next months' partitions exist before their readings arrive (cheap when they do).
            created = readings_partitions_ensure()
            summary = alerts_evaluate(sensor_codes=sensors)
        except DatabaseError as exc:
            raise CommandError(f"Threshold check failed: {exc}".splitlines()[0]) from None
        if created:
            self.stdout.write(f"Created reading partitions: {', '.join(created)}.")
        if options["verbosity"] >= 2 and summary.rewound:
            self.stdout.write(f"Late readings: re-evaluated {', '.join(summary.rewound)}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Checked {summary.sensors} sensors with new readings ({summary.readings} "
                f"readings): {summary.opened} alerts opened, {summary.closed} closed, "
                f"{summary.updated} updated, {summary.withdrawn} withdrawn; "
                f"{summary.notifications} notifications queued."
            )
        )
