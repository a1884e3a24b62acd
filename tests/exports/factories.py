from __future__ import annotations

import datetime as dt
from decimal import Decimal

from items.models import Item
from sensors.models import Reading, Sensor

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def make_items(count: int = 3, *, name_prefix: str = "Item") -> list[Item]:
    return [
        Item.objects.create(
            sku=f"ITEM-{index:06d}",
            name=f"{name_prefix} {index}",
            price=Decimal("10.50") + index,
            stock_quantity=index,
        )
        for index in range(1, count + 1)
    ]


def make_readings(code: str = "A", count: int = 10, *, start: dt.datetime = T0, **sensor) -> Sensor:
    """A sensor with ``count`` readings one minute apart from ``start`` (values 50, 51, ...)."""
    sensor_obj, _ = Sensor.objects.get_or_create(code=code, defaults={"name": code, **sensor})
    Reading.objects.bulk_create(
        Reading(sensor=sensor_obj, timestamp=start + dt.timedelta(minutes=i), value=50.0 + i)
        for i in range(count)
    )
    return sensor_obj
