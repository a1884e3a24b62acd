from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sensors.models import Reading, Sensor
from sensors.services import alerts_evaluate, readings_generate
from sensors.synthetic import SineSpec

DAYS = 3
STEP_S = 60
# code, name, unit, low, high, series (base, amplitude, period hours, noise, phase), seed
# A's phase puts its daily peak (68 °C) at the end of the series: the demo's sensor page and the
# README's picture show one open alert, whatever the time of day the demo was seeded.
DEMO_SENSORS = [
    ("A", "Boiler temperature", "°C", None, 65.0, SineSpec(58, 10, 24 * 3600, 1.2, math.pi / 2), 1),
    ("B", "Server room temperature", "°C", None, 70.0, SineSpec(62, 9, 12 * 3600, 1.0, 1.0), 2),
    ("C", "Tank level", "%", 48.0, None, SineSpec(56, 8, 18 * 3600, 1.0, 2.0), 3),
]


def demo_seed(*, stdout: Any) -> None:
    """Sensors A (high 65), B (high 70) and C (low 48) with 3 days of 1-minute readings.

    A's series ends at its daily peak, so A has an open alert right after seeding.

    A sensor that already has readings gets none added, so running it again changes nothing.
    """
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    count = DAYS * 86400 // STEP_S
    start = end - timedelta(seconds=STEP_S * (count - 1))
    for code, name, unit, low, high, spec, seed in DEMO_SENSORS:
        sensor, created = Sensor.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "low_threshold": low,
                "high_threshold": high,
                "hysteresis": 1.0,
                "min_duration": 300,
            },
        )
        if Reading.objects.filter(sensor=sensor).exists():
            stdout.write(f"Sensor {code}: already has readings.")
            continue
        result = readings_generate(
            sensor=sensor, start=start, step_s=STEP_S, count=count, spec=spec, seed=seed
        )
        stdout.write(f"Sensor {code}: {'created, ' if created else ''}{result.created} readings.")
    summary = alerts_evaluate(sensor_codes=[code for code, *_ in DEMO_SENSORS])
    stdout.write(
        f"Threshold check: {summary.opened} alerts opened, {summary.closed} closed "
        "(see /admin/sensors/alert/ and /api/v1/plots/readings.png?sensors=A,B,C)."
    )
