"""Several ``run_exports`` processes at once on the embedded SQLite site (a file in WAL mode, as it
runs): each pending export and each due scheduled run is run exactly once. The PostgreSQL tests
(``SKIP LOCKED``) use threads; SQLite's claim is the conditional UPDATE under its write lock."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections import Counter

from django.conf import settings

from tests.exports.factories import sqlite_site

SETUP = """
import datetime as dt, django
django.setup()
from django.utils import timezone
from exports import services
from items.models import Item

Item.objects.bulk_create(
    Item(sku=f"SKU-{index}", name=f"Item {index}", price=1, stock_quantity=index)
    for index in range(50)
)
for fmt in ("csv", "json", "jsonl"):
    for compress in (False, True):
        for filters in ({}, {"since": "2026-01-01"}, {"until": "2030-01-01"}):
            services.export_request(dataset="items", fmt=fmt, compress=compress, filters=filters)
due = timezone.now() - dt.timedelta(minutes=1)
for index in range(3):
    services.schedule_save(fields={
        "name": f"hourly {index}", "dataset": "readings", "format": "jsonl",
        "filters": {"sensor": "A"}, "every": "hour", "next_run_at": due,
    })
"""


def test_three_run_exports_processes_at_once_run_each_export_and_scheduled_run_once(tmp_path):
    db, env = sqlite_site(tmp_path)
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=300)
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_exports"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    with sqlite3.connect(db) as conn:
        exports = conn.execute("SELECT id, status, key, schedule_id FROM exports_export").fetchall()
    try:
        for worker, (_, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, err
        ran = Counter(
            int(found)
            for out, _ in outputs
            for found in re.findall(r"^#(\d+) \w+: ", out, flags=re.MULTILINE)
        )
        assert len(exports) == 18 + 3
        assert ran == Counter({export_id: 1 for export_id, *_ in exports})  # each exactly once
        assert {status for _, status, _, _ in exports} == {"succeeded"}
        assert len({key for _, _, key, _ in exports}) == len(exports)
        assert sorted(s for *_, s in exports if s is not None) == [1, 2, 3]  # one run each
    finally:
        for _, _, key, _ in exports:
            if key:
                (settings.BASE_DIR / "var" / "exports" / key).unlink(missing_ok=True)
