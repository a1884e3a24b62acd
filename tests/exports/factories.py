from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

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


def sqlite_site(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A migrated SQLite file (WAL, as the site runs) with sensor 'A', and the environment
    that points the project's processes at it."""
    db = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "targets_site.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{db}",
    }
    migrate = [sys.executable, "manage.py", "migrate", "-v", "0"]
    subprocess.run(migrate, env=env, check=True, timeout=300)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO sensors_sensor (code, name, unit, hysteresis, min_duration, is_active,"
            " created_at, updated_at) VALUES ('A', 'A', '', 0, 0, 1, '2026-01-01', '2026-01-01')"
        )
    return db, env
