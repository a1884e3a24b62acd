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
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
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


DEVICE_TOKEN = """
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from sensors.models import Sensor
for n in range(1, {sensors} + 1):
    Sensor.objects.get_or_create(code=f"INGEST{{n}}")
user, _ = User.objects.get_or_create(username="bench-device")
user.user_permissions.add(Permission.objects.get(codename="add_reading"))
print(Token.objects.get_or_create(user=user)[0].key)
"""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def export_revision(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (``git archive``), to run beside this one with this virtualenv."""
    archive = into / "baseline.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), revision],
        check=True,
    )
    tree = into / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def pid_cpu(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process still running among ``pids``."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of the processes still running among ``pids``."""
    return sum(pid_cpu(pids).values())


class CpuMeter:
    """CPU seconds used by a changing set of processes (``pids()``) while the block runs.

    Sampled every 0.2 s: a process that exits meanwhile (a database connection Django closes
    once it is 60 s old) keeps what it had used at its last sample, and one that starts counts
    from zero.
    """

    def __init__(self, pids: Callable[[], list[int]]):
        self.pids = pids
        self.seconds = 0.0

    def __enter__(self) -> CpuMeter:
        self.first = pid_cpu(self.pids())
        self.last = dict(self.first)
        self.done = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        return self

    def _sample(self) -> None:
        while not self.done.wait(0.2):
            self.last.update(pid_cpu(self.pids()))

    def __exit__(self, *exc_info) -> None:
        self.done.set()
        self.sampler.join()
        self.last.update(pid_cpu(self.pids()))
        self.seconds = sum(used - self.first.get(pid, 0.0) for pid, used in self.last.items())


def fresh_database(tree: Path, database: str) -> dict[str, str]:
    """Drop, create and migrate ``database`` with ``tree``'s code; the environment to use it."""
    env = {**ENV, "DATABASE_URL": f"{PG}/{database}", "PYTHONPATH": str(tree)}
    psql(f"DROP DATABASE IF EXISTS {database}", database="postgres")
    psql(f"CREATE DATABASE {database}", database="postgres")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=tree, check=True)
    return env


class Gunicorn:
    """gunicorn serving ``tree`` on 127.0.0.1:``port`` (started on enter, stopped on exit)."""

    def __init__(self, tree: Path, env: dict[str, str], port: int, workers: int):
        self.tree, self.env, self.port, self.workers = tree, env, port, workers
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        import requests

        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                *("-c", "gunicorn.conf.py", "targets_site.wsgi"),
                *("--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)),
            ],
            env=self.env,
            cwd=self.tree,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(150):
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit(f"gunicorn for {self.tree} did not answer on port {self.port}")

    def __exit__(self, *exc_info) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def backend_pids(database: str) -> Callable[[], list[int]]:
    """A function listing the PostgreSQL backends connected to ``database`` (one connection of
    its own to ask, not a psql process per sample)."""
    import psycopg

    monitor = psycopg.connect(f"{PG}/postgres", autocommit=True)
    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
    return lambda: [pid for (pid,) in monitor.execute(query, [database]).fetchall()]


class IngestServer(Gunicorn):
    """gunicorn serving one tree on its own, freshly migrated database, with a device token and
    sensors ``INGEST1``..``INGEST<sensors>``."""

    def __init__(
        self, label: str, tree: Path, database: str, port: int, workers: int, sensors: int
    ):
        super().__init__(tree, {}, port, workers)
        self.label, self.database, self.sensors = label, database, sensors
        self.url = f"{self.base}/api/v1/readings/"

    def __enter__(self) -> IngestServer:
        self.env = fresh_database(self.tree, self.database)
        shell = [PYTHON, "manage.py", "shell", "-c", DEVICE_TOKEN.format(sensors=self.sensors)]
        token = subprocess.run(
            shell, env=self.env, cwd=self.tree, check=True, capture_output=True, text=True
        ).stdout.split()[-1]
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        super().__enter__()
        return self

    def cpu_meters(self) -> tuple[CpuMeter, CpuMeter]:
        """Meters of the gunicorn workers' CPU and of their PostgreSQL backends'."""
        return CpuMeter(self.worker_pids), CpuMeter(backend_pids(self.database))


def ingest_bodies(sensor: str, total: int, start: datetime) -> list[bytes]:
    """10,000-reading JSON batches of one sensor at 1 Hz from ``start``."""
    bodies = []
    for begin in range(0, total, 10_000):
        rows = [
            {
                "sensor": sensor,
                "timestamp": (start + timedelta(seconds=i)).isoformat(),
                "value": round(55 + 10 * math.sin(i / 3600), 3),
            }
            for i in range(begin, min(total, begin + 10_000))
        ]
        bodies.append(json.dumps(rows).encode())
    return bodies


def send_batches(server: IngestServer, bodies: list[bytes], parallel: int) -> float:
    """POST every body over ``parallel`` keep-alive connections; wall seconds."""
    import requests

    queue = list(reversed(bodies))
    lock = threading.Lock()
    failures = []

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            response = session.post(server.url, data=body, headers=server.headers, timeout=60)
            if response.status_code != 201:
                failures.append(response.text[:200])

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"ingest into {server.label} failed: {failures[0]}")
    return time.perf_counter() - began


def bench_ingest(
    total: int, clients: int, workers: int, rounds: int, baseline: str | None, workdir: Path
) -> dict:
    """Readings per second from 1 and from ``clients`` connections, this tree and optionally
    ``baseline`` (a git revision) in turns, each on its own database; medians of ``rounds``.

    Each measurement writes a new sensor's readings at 1 Hz from the start of this month (the
    monthly partition that live data goes to), so no reading is a duplicate.
    """
    trees = {"this tree": ROOT}
    if baseline:
        trees = {f"baseline {baseline}": export_revision(baseline, workdir), **trees}
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                IngestServer(label, tree, f"{DB}_ingest{n}", PORT + n, workers, 1 + 2 * rounds)
            )
            for n, (label, tree) in enumerate(trees.items())
        ]
        measured: dict[str, dict[str, list[float]]] = {server.label: {} for server in servers}
        used: dict[str, int] = {server.label: 0 for server in servers}

        def measure(server: IngestServer, parallel: int, key: str) -> None:
            used[server.label] += 1
            bodies = ingest_bodies(f"INGEST{used[server.label]}", total, month)
            workers, postgres = server.cpu_meters()
            with workers, postgres:
                seconds = send_batches(server, bodies, parallel)
            runs = measured[server.label]
            runs.setdefault(f"{key}_readings_per_s", []).append(total / seconds)
            for part, meter in (("workers", workers), ("postgres", postgres)):
                cpu_ms = meter.seconds / len(bodies) * 1000
                runs.setdefault(f"{key}_{part}_cpu_ms_per_batch", []).append(cpu_ms)
            print(
                f"  {server.label}, {parallel} connection(s): {total / seconds:,.0f} readings/s",
                file=sys.stderr,
                flush=True,
            )

        for server in servers:  # warm-up: every worker's imports and database connection
            measure(server, clients, "warmup")
        for round_ in range(rounds):
            order = servers if round_ % 2 == 0 else servers[::-1]
            for server in order:
                measure(server, 1, "one_connection")
            for server in order:
                measure(server, clients, "parallel")
    result: dict = {
        "readings_per_measurement": total,
        "batch": 10_000,
        "gunicorn_workers": workers,
        "clients": clients,
        "rounds": rounds,
    }
    for label, runs in measured.items():
        result[label] = {
            key: statistics.median(values)
            for key, values in runs.items()
            if not key.startswith("warmup")
        }
        result[label]["runs"] = runs
    print_ingest_table(result, list(trees))
    return result


def print_ingest_table(result: dict, labels: list[str]) -> None:
    rows = [
        ("one connection, readings/s", "one_connection_readings_per_s"),
        (f"{result['clients']} connections, readings/s", "parallel_readings_per_s"),
        ("one connection: gunicorn CPU ms/batch", "one_connection_workers_cpu_ms_per_batch"),
        ("one connection: PostgreSQL CPU ms/batch", "one_connection_postgres_cpu_ms_per_batch"),
    ]
    print(f"{'':42}" + "".join(f"{label:>24}" for label in labels))
    for title, key in rows:
        print(f"{title:42}" + "".join(f"{result[label][key]:24,.1f}" for label in labels))
    if len(labels) == 2:
        for title, key in rows[:2]:
            ratio = result[labels[1]][key] / result[labels[0]][key]
            print(f"{title:42} this tree / baseline: {ratio:.2f}x")


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
    parser.add_argument(
        "--baseline",
        help="ingest: also run this git revision (e.g. main), in turns with this tree",
    )
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
            results["ingest"] = bench_ingest(
                args.ingest_readings,
                args.clients,
                args.workers,
                args.repeats,
                args.baseline,
                Path(workdir),
            )
    if "plot" in only:
        results["plot"] = bench_plot(args.large, 5)
    out = ROOT / "bench" / "results" / "sensors.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
