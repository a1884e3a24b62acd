from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensors.filters import PLOT_HEIGHT, PLOT_WIDTH
from sensors.models import Sensor
from sensors.parsing import parse_timestamp


class Command(BaseCommand):
    # The system checks import every URLconf and view (pandas, matplotlib...): seconds of
    # start-up on each cron run for nothing; `manage.py check --deploy` is where they belong.
    requires_system_checks: list[str] = []
    help = "Draw sensors' readings, thresholds and breach points to a PNG file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sensors", required=True, help="Comma-separated codes, e.g. A,B.")
        parser.add_argument("--out", required=True, type=Path, help="PNG file to write.")
        parser.add_argument("--from", dest="start", help="Aware ISO-8601 start.")
        parser.add_argument("--to", dest="end", help="Aware ISO-8601 end.")
        parser.add_argument("--width", type=int, default=PLOT_WIDTH[2], help="Pixels (1000).")
        parser.add_argument("--height", type=int, default=PLOT_HEIGHT[2], help="Pixels (450).")

    def handle(self, *args, sensors: str, out: Path, start, end, width, height, **opts) -> None:
        codes = list(dict.fromkeys(code.strip() for code in sensors.split(",") if code.strip()))
        if not codes:
            raise CommandError("--sensors needs at least one code.")
        found = {sensor.code: sensor for sensor in Sensor.objects.filter(code__in=codes)}
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise CommandError(f"Unknown sensor codes: {', '.join(unknown)}.")
        if not PLOT_WIDTH[0] <= width <= PLOT_WIDTH[1]:
            raise CommandError(f"--width must be from {PLOT_WIDTH[0]} to {PLOT_WIDTH[1]}.")
        if not PLOT_HEIGHT[0] <= height <= PLOT_HEIGHT[1]:
            raise CommandError(f"--height must be from {PLOT_HEIGHT[0]} to {PLOT_HEIGHT[1]}.")
        try:
            first = parse_timestamp(start) if start else None
            last = parse_timestamp(end) if end else None
        except ValueError as exc:
            raise CommandError(f"--from/--to: {exc}") from None
        if first and last and first > last:
            raise CommandError("--from must not be after --to.")
        # pandas and matplotlib are imported for the plot, not when the command starts.
        from sensors.plotting import render_plot
        from sensors.selectors import plot_series_for

        series, first, last = plot_series_for(
            sensors=[found[code] for code in codes], start=first, end=last, columns=width
        )
        png = render_plot(
            series,
            width=width,
            height=height,
            title="Sensors " + ", ".join(codes),
            start=first,
            end=last,
        )
        try:
            out.write_bytes(png)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}.") from None
        points = sum(item.t.size for item in series)
        breaches = sum(item.breach_t.size for item in series)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {out} ({len(png):,} bytes): {len(codes)} sensors, {points} plotted "
                f"points, {breaches} breach points."
            )
        )
