from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory

from sensors.models import Sensor
from sensors.services import readings_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class SensorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sensor
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n}")
    name = factory.LazyAttribute(lambda sensor: f"Sensor {sensor.code}")
    unit = "°C"
    low_threshold = None
    high_threshold = 65.0
    hysteresis = 0.0
    min_duration = 0


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def store(sensor: Sensor, *values: float, start: float = 0, step: float = 1) -> int:
    """Store ``values``, one per ``step`` minutes from minute ``start``, via the ingest service."""
    return readings_store(
        rows=[(sensor.id, minute(start + i * step), float(v)) for i, v in enumerate(values)]
    )
