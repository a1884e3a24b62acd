"""prune_readings on PostgreSQL: one month of 1 Hz readings, whole processes timed from outside.

    .venv/bin/python bench/prune_bench.py                        # 1 round, database prune_bench
    .venv/bin/python bench/prune_bench.py --rounds 3 --database my_prune_bench

Each round loads one calendar month of one sensor at 1 Hz (2,678,400 readings for a 31-day month,
into its monthly partition, then ANALYZE), and times, as fresh processes (wall time):

1. ``manage.py prune_readings --keep-days K`` with K chosen so that the cut-off falls after that
   month and before any newer reading: the whole month goes, as a partition drop;
2. after loading the same month again, ``psql -c "DELETE FROM sensors_reading WHERE timestamp <
   cut-off"``: the plain way to remove the same rows;
3. ``manage.py prune_readings --help``: the process start-up alone (Python, Django), which is part
   of (1).

The data lives in its own database (dropped and re-created, then migrated). Results go to
``bench/results/prune.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from needs import bytecode_compiled, production_env, require  # noqa: E402 - after the path fix

from sensors.partitions import month_of  # noqa: E402 - after the path fix

PG = "postgres://postgres@127.0.0.1:5432"
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def environment(database: str) -> dict[str, str]:
    return production_env(f"{PG}/{database}")


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system, of the process alone: steadier on a shared machine)
    and stdout of ``command`` run as its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu, done.stdout.strip()


def load_month(url: str, month) -> int:
    psql(
        url,
        f"CREATE TABLE IF NOT EXISTS {month.name} PARTITION OF sensors_reading "
        f"FOR VALUES FROM ('{month.lower.isoformat()}') TO ('{month.upper.isoformat()}')",
    )
    psql(
        url,
        "INSERT INTO sensors_reading (sensor_id, timestamp, value) "
        "SELECT (SELECT id FROM sensors_sensor WHERE code = 'BENCH'), t, "
        "20 + 5 * sin(extract(epoch FROM t) / 3600.0) "
        f"FROM generate_series('{month.lower.isoformat()}'::timestamptz, "
        f"'{month.upper.isoformat()}'::timestamptz - interval '1 second', interval '1 second') t",
    )
    psql(url, f"ANALYZE {month.name}")
    return int(psql(url, f"SELECT COUNT(*) FROM {month.name}"))


def main() -> None:
    require(tools=("psql",), services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--database", default="prune_bench")
    args = parser.parse_args()
    env = environment(args.database)
    url = env["DATABASE_URL"]

    bytecode_compiled(ROOT)
    psql(f"{PG}/postgres", f"DROP DATABASE IF EXISTS {args.database}")
    psql(f"{PG}/postgres", f"CREATE DATABASE {args.database}")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    psql(
        url,
        "INSERT INTO sensors_sensor (code, name, unit, hysteresis, min_duration, is_active, "
        "created_at, updated_at) VALUES ('BENCH', 'Bench', 'C', 0, 0, true, now(), now())",
    )

    now = datetime.now(UTC)
    month = month_of(now)
    for _ in range(3):  # three months back: wholly older than any sensible cut-off
        month = month_of(month.lower - timedelta(seconds=1))
    keep_days = (now - month.upper).days  # cut-off = now - keep_days >= month.upper
    cutoff = now.timestamp() - keep_days * 86400
    cutoff_sql = datetime.fromtimestamp(cutoff, UTC).isoformat()

    prune, delete, startup, rows = [], [], [], 0
    prune_cpu, startup_cpu = [], []
    for _ in range(args.rounds):
        rows = load_month(url, month)
        seconds, cpu, out = timed(
            [PYTHON, "manage.py", "prune_readings", "--keep-days", str(keep_days)], env
        )
        assert month.name in out, out
        assert psql(url, "SELECT COUNT(*) FROM sensors_reading") == "0"
        prune.append(seconds)
        prune_cpu.append(cpu)

        assert load_month(url, month) == rows
        start = time.perf_counter()
        psql(url, f"DELETE FROM sensors_reading WHERE timestamp < '{cutoff_sql}'")
        delete.append(time.perf_counter() - start)
        assert psql(url, "SELECT COUNT(*) FROM sensors_reading") == "0"
        psql(url, f"DROP TABLE {month.name}")

        seconds, cpu, _ = timed([PYTHON, "manage.py", "prune_readings", "--help"], env)
        startup.append(seconds)
        startup_cpu.append(cpu)

    result = {
        "month": month.name,
        "readings": rows,
        "keep_days": keep_days,
        "rounds": args.rounds,
        "prune_readings_s": statistics.median(prune),
        "plain_delete_s": statistics.median(delete),
        "startup_s": statistics.median(startup),
        "prune_readings_cpu_s": statistics.median(prune_cpu),
        "startup_cpu_s": statistics.median(startup_cpu),
        "delete_over_prune": statistics.median(delete) / statistics.median(prune),
        "load_1min": os.getloadavg()[0],
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "prune.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{rows:,} readings of {month.name}, {args.rounds} round(s), medians (wall, s):")
    print(
        f"  manage.py prune_readings --keep-days {keep_days}   {result['prune_readings_s']:.2f}"
        f"  (CPU of the process {result['prune_readings_cpu_s']:.2f})"
    )
    print(
        f"    of which process start-up (--help)   {result['startup_s']:.2f}"
        f"  (CPU {result['startup_cpu_s']:.2f})"
    )
    print(f"  psql DELETE ... WHERE timestamp < cut-off   {result['plain_delete_s']:.2f}")
    print(f"  DELETE / prune_readings: {result['delete_over_prune']:.1f}x")
    print(f"  load average (1 min) at the end: {result['load_1min']:.1f}")


if __name__ == "__main__":
    main()
