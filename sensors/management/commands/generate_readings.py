from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensors.models import Sensor
from sensors.parsing import parse_timestamp
from sensors.services import readings_generate
from sensors.synthetic import SineSpec
from targets_site.errors import DomainError
from targets_site.progress import progress_counter

MAX_COUNT = 50_000_000


class Command(BaseCommand):
    # The system checks import every URLconf and view (pandas, matplotlib...): seconds of
    # start-up on each cron run for nothing; `manage.py check --deploy` is where they belong.
    requires_system_checks: list[str] = []
    help = (
        "Store a seeded synthetic sine-plus-noise series for a sensor (demos, benchmarks). "
        "Same arguments, same data; readings already stored are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sensor", required=True, metavar="CODE", help="Sensor code.")
        parser.add_argument("--days", type=float, default=3.0, help="Length of the series (3).")
        parser.add_argument("--step", type=float, default=60.0, help="Seconds between readings.")
        parser.add_argument(
            "--end", help="Aware ISO-8601 end of the series (default: now, to the minute)."
        )
        parser.add_argument("--seed", type=int, default=0, help="Random seed (0).")
        parser.add_argument("--base", type=float, default=55.0, help="Mean value (55).")
        parser.add_argument("--amplitude", type=float, default=10.0, help="Sine amplitude (10).")
        parser.add_argument("--period-hours", type=float, default=24.0, help="Sine period (24).")
        parser.add_argument("--noise", type=float, default=1.0, help="Noise std deviation (1).")

    def handle(self, *args, **options) -> None:
        sensor = Sensor.objects.filter(code=options["sensor"]).first()
        if sensor is None:
            raise CommandError(f"Unknown sensor code {options['sensor']!r}.")
        if options["step"] <= 0 or options["days"] <= 0 or options["period_hours"] <= 0:
            raise CommandError("--days, --step and --period-hours must be positive.")
        count = int(options["days"] * 86400 / options["step"])
        if count > MAX_COUNT:
            raise CommandError(f"That is {count:,} readings; at most {MAX_COUNT:,} per run.")
        if options["end"]:
            try:
                end = parse_timestamp(options["end"])
            except ValueError as exc:
                raise CommandError(f"--end: {exc}") from None
        else:
            end = datetime.now(UTC).replace(second=0, microsecond=0)
        start = end - timedelta(seconds=options["step"] * (count - 1))
        spec = SineSpec(
            base=options["base"],
            amplitude=options["amplitude"],
            period_s=options["period_hours"] * 3600,
            noise=options["noise"],
        )
        try:
            with progress_counter(
                stdout=self.stdout, total=count, desc=f"generating {sensor.code}", unit=" readings"
            ) as advance:
                result = readings_generate(
                    sensor=sensor,
                    start=start,
                    step_s=options["step"],
                    count=count,
                    spec=spec,
                    seed=options["seed"],
                    on_chunk=advance,
                )
        except DomainError as err:  # e.g. the sensor was deleted while its readings were written
            raise CommandError(str(err)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {result.received} readings for {sensor.code} from "
                f"{start.isoformat()} to {end.isoformat()}: {result.created} new."
            )
        )
