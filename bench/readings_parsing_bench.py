"""Reading parser: the API ingest and the CSV import of this tree against another revision.

    .venv/bin/python bench/readings_parsing_bench.py --before <git revision>
    .venv/bin/python bench/readings_parsing_bench.py --before <rev> \\
        --database-url postgres://postgres@127.0.0.1:5432/<your name> --rounds 5

Both trees run the same child code against the same PostgreSQL database, in turns (before,
after, before, after...), so load on the machine falls on both alike. Each child times, in its
own process (CPU time and wall time):

1. ``readings_ingest(payload=batch)`` for batches of 10,000 JSON-decoded readings, as the API
   view calls it (validation, the sensor look-up, the COPY), new readings every time;
2. ``readings_import(stream=...)`` of one long-format CSV file (``manage.py import_readings``
   without the command around it).

The revision is taken with ``git archive`` into a temporary directory and run with this tree's
virtualenv. The database is emptied of readings before every child; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from needs import require

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

CHILD = r"""
import io, json, os, sys, time
from datetime import UTC, datetime, timedelta
import django
django.setup()
from django.db import connection
from sensors.models import Sensor
from sensors.services.ingest import readings_ingest
from sensors.services.importing import readings_import

batches, batch_size, csv_path, offset_days = (
    int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
)
for code in ("A", "B", "BENCH"):
    Sensor.objects.get_or_create(code=code, defaults={"name": code})
with connection.cursor() as cursor:
    cursor.execute("TRUNCATE sensors_reading, sensors_readingmark")

start = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=offset_days)
bodies = []
for n in range(batches):
    rows = [
        {
            "sensor": "AB"[i % 2],
            "timestamp": (start + timedelta(seconds=n * batch_size + i)).isoformat(),
            "value": round(50 + (i % 997) * 0.01, 3),
        }
        for i in range(batch_size)
    ]
    bodies.append(json.dumps(rows))
ingest_cpu, ingest_wall = [], []
for body in bodies:
    payload = json.loads(body)  # what the API view hands to the service
    cpu, wall = time.process_time(), time.perf_counter()
    result = readings_ingest(payload=payload)
    ingest_cpu.append(time.process_time() - cpu)
    ingest_wall.append(time.perf_counter() - wall)
    assert result.created == batch_size, result

with connection.cursor() as cursor:
    cursor.execute("TRUNCATE sensors_reading, sensors_readingmark")
with open(csv_path, encoding="utf-8", newline="") as stream:
    cpu, wall = time.process_time(), time.perf_counter()
    summary = readings_import(stream=stream)
    import_cpu, import_wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({
    "ingest_cpu": ingest_cpu, "ingest_wall": ingest_wall,
    "import_cpu": import_cpu, "import_wall": import_wall, "imported": summary.created,
}))
"""


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


def export_revision(revision: str, into: Path) -> Path:
    archive = into / "before.tar"
    run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), revision])
    tree = into / "before"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,sensor,value\n")
        for i in range(rows):
            out.write(f"2000-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}")
            out.write(f".{i // 86400:06d}+00:00,BENCH,{50 + (i % 997) * 0.01:.3f}\n")


def main() -> None:
    require(tools=("psql",), services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare against")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/readings_parsing_bench",
        help="a PostgreSQL database of your own (created and migrated when missing)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--csv-rows", type=int, default=200_000)
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "targets_site.settings",
        "DJANGO_SECRET_KEY": "bench-only-" + "b" * 50,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "warning",
    }
    name = args.database_url.rsplit("/", 1)[-1]
    server = args.database_url.rsplit("/", 1)[0]
    exists = run(
        [
            "psql",
            f"{server}/postgres",
            "-qAt",
            "-c",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ]
    ).stdout.strip()
    if not exists:
        run(["psql", f"{server}/postgres", "-q", "-c", f'CREATE DATABASE "{name}"'])
    run([PYTHON, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env)

    with tempfile.TemporaryDirectory(prefix="readings-parsing-bench-") as tmp:
        before = export_revision(args.before, Path(tmp))
        csv_path = Path(tmp) / "readings.csv"
        write_csv(csv_path, args.csv_rows)
        trees = {"before": before, "after": ROOT}
        results: dict[str, list[dict]] = {"before": [], "after": []}
        for round_ in range(args.rounds):
            for label, tree in trees.items():
                argv = [str(args.batches), str(args.batch_size), str(csv_path), str(round_)]
                done = run(
                    [PYTHON, "-c", CHILD, *argv], cwd=tree, env={**env, "PYTHONPATH": str(tree)}
                )
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results[label].append(result)
                print(
                    f"round {round_ + 1} {label}: ingest CPU "
                    f"{statistics.median(result['ingest_cpu']):.4f} s, wall "
                    f"{statistics.median(result['ingest_wall']):.4f} s; import CPU "
                    f"{result['import_cpu']:.3f} s, wall {result['import_wall']:.3f} s",
                    file=sys.stderr,
                )

    def median(label: str, key: str) -> float:
        values = []
        for result in results[label]:
            value = result[key]
            values.extend(value if isinstance(value, list) else [value])
        return statistics.median(values)

    report: dict = {
        "revision": args.before,
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "runs": results,
    }
    print(f"{'':38} {'before':>10} {'after':>10} {'after/before':>13}")
    for key, what in [
        ("ingest_cpu", f"ingest {args.batch_size:,} readings, CPU s"),
        ("ingest_wall", f"ingest {args.batch_size:,} readings, wall s"),
        ("import_cpu", f"import {args.csv_rows:,} CSV lines, CPU s"),
        ("import_wall", f"import {args.csv_rows:,} CSV lines, wall s"),
    ]:
        old, new = median("before", key), median("after", key)
        report[key] = {"before": old, "after": new, "ratio": new / old}
        print(f"{what:38} {old:10.4f} {new:10.4f} {new / old:12.2f}x")
    out = ROOT / "bench" / "results" / "readings_parsing.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
