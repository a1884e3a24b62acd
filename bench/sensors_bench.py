"""Sensors benchmarks on PostgreSQL, each side by side with its baseline in the same run.

    .venv/bin/python bench/sensors_bench.py                  # all three, default sizes
    .venv/bin/python bench/sensors_bench.py --only import --small 100000 --large 1000000

1. ``manage.py import_readings`` of a long-format CSV (100k and 1M rows) vs
   ``psql -c "\\copy ... FROM"`` of the same file into an equivalent table (bigserial id, the
   same three columns, the same unique index): wall time and each child's peak RSS.
2. ``POST /api/v1/readings/`` in 10,000-row batches through gunicorn (real HTTP, token auth,
   JSON parsing, validation, COPY), several client connections at once: readings per second,
   next to the same rows sent with one connection.
3. ``GET /api/v1/sensors/{code}/plot.png`` over 1,000,000 readings (Django's full request stack,
   in process) vs fetching the same (timestamp, value) rows with a raw cursor: median of 5 each.

Everything runs in its own database (``sensors_bench``, re-created each run) so no one else's
data is touched; results also go to ``bench/results/sensors.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from needs import require

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"
DB = "sensors_bench"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PORT = 8765

ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB}",
    "DJANGO_SECRET_KEY": "bench-only-" + "b" * 50,
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_HSTS_SECONDS": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "DJANGO_LOG_LEVEL": "warning",
    # The benchmark measures the ingest path, not the rate limiter.
    "API_THROTTLE_RATES": ",".join(
        f"{s}=100000000/min" for s in ("anon", "user", "login", "register", "scores", "readings")
    ),
}


def psql(sql: str, database: str = DB) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAt", "-c", sql],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def timed_child(argv: list[str]) -> tuple[float, float]:
    """Run ``argv``; return (wall seconds, peak RSS in MiB) of that child alone.

    The RSS comes from /usr/bin/time, whose child is forked from a tiny process: wait4() on a
    child forked from this (Django-loaded) process would report at least this process's size.
    """
    started = time.perf_counter()
    process = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *argv],
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {process.stderr[-500:]}")
    return elapsed, int(process.stderr.strip().splitlines()[-1]) / 1024


def write_csv(path: Path, rows: int) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,sensor,value\n")
        for begin in range(0, rows, 100_000):
            out.write(
                "".join(
                    f"{(start + timedelta(seconds=i)).isoformat()},BENCH,"
                    f"{55 + 10 * math.sin(i / 3600):.3f}\n"
                    for i in range(begin, min(rows, begin + 100_000))
                )
            )


def setup_django():
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "targets_site.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bench_import(sizes: list[int], repeats: int, workdir: Path) -> list[dict]:
    psql(
        "DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (id bigserial PRIMARY KEY, "
        "timestamp timestamptz NOT NULL, sensor text NOT NULL, value float8 NOT NULL, "
        "UNIQUE (sensor, timestamp))"
    )
    results = []
    for rows in sizes:
        path = workdir / f"readings_{rows}.csv"
        write_csv(path, rows)
        ours, theirs = [], []
        for _ in range(repeats):
            psql("TRUNCATE sensors_reading, sensors_readingmark")
            ours.append(timed_child([PYTHON, "manage.py", "import_readings", str(path)]))
            psql("TRUNCATE bench_copy")
            copy = (
                f"\\copy bench_copy (timestamp, sensor, value) FROM '{path}' "
                "WITH (FORMAT csv, HEADER true)"
            )
            theirs.append(
                timed_child(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-c", copy])
            )
        startup = statistics.median(
            timed_child([PYTHON, "manage.py", "import_readings", "--help"])[0]
            for _ in range(repeats)
        )
        row = {
            "rows": rows,
            "command_startup_s": startup,
            "import_readings_s": statistics.median(t for t, _ in ours),
            "psql_copy_s": statistics.median(t for t, _ in theirs),
            "import_readings_peak_rss_mib": max(r for _, r in ours),
            "psql_peak_rss_mib": max(r for _, r in theirs),
        }
        row["time_ratio"] = row["import_readings_s"] / row["psql_copy_s"]
        results.append(row)
        print(json.dumps(row), flush=True)
    return results


def bench_ingest(total: int, clients: int, workers: int) -> dict:
    import requests
    from django.contrib.auth.models import Permission, User
    from rest_framework.authtoken.models import Token

    from sensors.models import Sensor

    Sensor.objects.get_or_create(code="INGEST", defaults={"high_threshold": 65})
    user, _ = User.objects.get_or_create(username="bench-device")
    user.user_permissions.add(Permission.objects.get(codename="add_reading"))
    token, _ = Token.objects.get_or_create(user=user)
    headers = {"Authorization": f"Token {token.key}", "Content-Type": "application/json"}

    start = datetime(2021, 1, 1, tzinfo=UTC)

    def bodies(offset_days: int) -> list[bytes]:
        out = []
        for begin in range(0, total, 10_000):
            out.append(
                json.dumps(
                    [
                        {
                            "sensor": "INGEST",
                            "timestamp": (
                                start + timedelta(days=offset_days, seconds=i)
                            ).isoformat(),
                            "value": round(55 + 10 * math.sin(i / 3600), 3),
                        }
                        for i in range(begin, min(total, begin + 10_000))
                    ]
                ).encode()
            )
        return out

    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "targets_site.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
        ],
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{PORT}/api/v1/readings/"
    try:
        for _ in range(100):
            try:
                if requests.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)

        def send(batches: list[bytes], parallel: int) -> float:
            queue = list(batches)
            lock = threading.Lock()
            failures = []

            def worker():
                session = requests.Session()
                while True:
                    with lock:
                        if not queue:
                            return
                        body = queue.pop()
                    response = session.post(url, data=body, headers=headers, timeout=60)
                    if response.status_code != 201:
                        failures.append(response.text[:200])

            threads = [threading.Thread(target=worker) for _ in range(parallel)]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if failures:
                raise SystemExit(f"ingest failed: {failures[0]}")
            return time.perf_counter() - began

        send(bodies(900)[:4], clients)  # warm-up: connections, imports, temp tables
        one = send(bodies(0), 1)
        many = send(bodies(100), clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "readings": total,
        "batch": 10_000,
        "gunicorn_workers": workers,
        "clients": clients,
        "one_connection_readings_per_s": total / one,
        "parallel_readings_per_s": total / many,
    }
    print(json.dumps(result), flush=True)
    return result


def bench_plot(rows: int, repeats: int) -> dict:
    from django.db import connection
    from django.test import Client

    from sensors.models import Reading, Sensor

    sensor = Sensor.objects.get(code="BENCH")
    sensor.high_threshold = 64.0
    sensor.save()
    count = Reading.objects.filter(sensor=sensor).count()
    assert count == rows, f"expected {rows} readings of BENCH from the import run, found {count}"
    client = Client()
    plot_times, fetch_times = [], []

    def plot() -> float:
        began = time.perf_counter()
        response = client.get("/api/v1/sensors/BENCH/plot.png", {"width": 1000, "height": 450})
        assert response.status_code == 200, response.content[:200]
        return time.perf_counter() - began

    def fetch() -> float:
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT timestamp, value FROM sensors_reading WHERE sensor_id = %s "
                "ORDER BY timestamp",
                [sensor.id],
            )
            fetched = cursor.fetchall()
        assert len(fetched) == rows
        return time.perf_counter() - began

    plot(), fetch()  # warm the cache and the imports
    for _ in range(repeats):
        plot_times.append(plot())
        fetch_times.append(fetch())
    result = {
        "readings": rows,
        "plot_png_s": statistics.median(plot_times),
        "raw_cursor_fetch_s": statistics.median(fetch_times),
    }
    result["ratio"] = result["plot_png_s"] / result["raw_cursor_fetch_s"]
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    require(tools=("psql",), services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ingest-readings", type=int, default=500_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--only", choices=["import", "ingest", "plot"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["import", "ingest", "plot"])

    psql(f"DROP DATABASE IF EXISTS {DB}", database="postgres")
    psql(f"CREATE DATABASE {DB}", database="postgres")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=ENV, cwd=ROOT, check=True)
    setup_django()
    from sensors.models import Sensor

    Sensor.objects.get_or_create(code="BENCH", defaults={"unit": "°C"})
    results: dict = {"machine": f"{os.cpu_count()} cores", "when": datetime.now(UTC).isoformat()}
    with tempfile.TemporaryDirectory() as workdir:
        if "import" in only or "plot" in only:
            sizes = [args.small, args.large] if "import" in only else [args.large]
            results["import"] = bench_import(sizes, args.repeats, Path(workdir))
    if "ingest" in only:
        results["ingest"] = bench_ingest(args.ingest_readings, args.clients, args.workers)
    if "plot" in only:
        results["plot"] = bench_plot(args.large, 5)
    out = ROOT / "bench" / "results" / "sensors.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
