"""Exports benchmarks on PostgreSQL: whole processes, as cron runs them, side by side in one run.

    .venv/bin/python bench/exports_bench.py                  # 100k and 1M readings, 3 repeats
    .venv/bin/python bench/exports_bench.py --repeats 1 --skip-s3
    .venv/bin/python bench/exports_bench.py --database exports_bench_me --baseline /tmp/before

Every measurement is a fresh process timed from the outside (wall time; peak RSS of that one
process from ``wait4``, and its peak anonymous memory sampled from /proc), the sides interleaved
so drift on a shared machine hits them alike:

1. ``manage.py export_data readings --format csv`` vs ``psql -c "\\copy (SELECT ...) TO FILE CSV
   HEADER"`` of the same rows and columns, at 100,000 rows (one sensor) and 1,000,000 (all ten).
2. The same 1M rows as ``--format jsonl``, ``--format parquet`` (also at 100k) and ``json``, vs
   that CSV export; JSON Lines also through the Python path (streamed cursor, Python encoder),
   which is what the COPY path was chosen against.
3. ``export_data --format csv --storage s3`` (SeaweedFS on loopback) vs a process doing boto3
   ``upload_file`` of the finished file with the exports' TransferConfig.
4. Start-up: ``manage.py export_data --help``, an export of no rows, and the modules ``--help``
   imports (none of pandas, matplotlib, numpy, pyarrow, boto3); the floors beside it: Django
   with no installed apps plus one psycopg connection, psycopg's import and connection alone,
   and pyarrow's import alone.

The data lives in its own database (``exports_bench``, or ``--database``: two runs of the bench
at once must not share one), seeded through the Reading model when it does not hold exactly the
expected rows. ``--baseline DIR`` also runs ``export_data`` from another checkout (e.g. main, in a
``git worktree``; same venv, same database), interleaved with this tree's, for before/after
ratios in one run. Results go to ``bench/results/exports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from needs import bytecode_compiled, production_env, require

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DB = "exports_bench"  # --database
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SENSORS = 10
PER_SENSOR = 100_000

ENV = production_env(f"{PG}/{DB}")  # --database

PLAIN_SELECT = (
    "SELECT s.code AS sensor, r.timestamp, r.value FROM sensors_reading r "
    "JOIN sensors_sensor s ON s.id = r.sensor_id {where} ORDER BY r.sensor_id, r.timestamp"
)

SEED = f"""
import datetime as dt, django
django.setup()
from django.db import transaction
from sensors.models import Reading, Sensor
if Reading.objects.count() != {SENSORS * PER_SENSOR} or Sensor.objects.count() != {SENSORS}:
    Reading.objects.all().delete(); Sensor.objects.all().delete()
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for index in range({SENSORS}):
        sensor = Sensor.objects.create(
            code=f"S{{index}}", name=f"Sensor {{index}}", high_threshold=65)
        for start in range(0, {PER_SENSOR}, 20_000):
            with transaction.atomic():
                Reading.objects.bulk_create(
                    Reading(sensor=sensor,
                            timestamp=t0 + dt.timedelta(seconds=30 * i, microseconds=i % 7),
                            value=round(60 + 10 * ((i * 7919) % 1000) / 1000, 3))
                    for i in range(start, start + 20_000))
    print("seeded")
"""

UPLOAD = """
import sys, boto3
from exports.storage import transfer_config
endpoint, key_id, secret, region, bucket, path = sys.argv[1:]
client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key_id,
                      aws_secret_access_key=secret, region_name=region)
client.upload_file(path, bucket, "baseline/" + path.rsplit("/", 1)[-1], Config=transfer_config())
"""

# The JSON Lines export through the Python path (ORM rows, streamed, Python encoder).
PYTHON_PATH = """
import sys, django
django.setup()
from exports import services
export = services.export_start(dataset="readings", fmt=sys.argv[1], filters={})
export = services.export_execute(export=export, force_python=True)
assert export.status == "succeeded", export.error
print(export.key)
"""


def timed(command: list[str], env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run ``command`` as its own process; its wall time, CPU time (user + system) and peak RSS
    (of it alone). On a shared machine the CPU time is the steadier figure; note that it counts
    the client only (psql's, or the Python process's), not the PostgreSQL server's."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    anonymous = AnonymousPeak(process.pid)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    anonymous.stop()
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{err[-3000:]}")
    return {
        "seconds": seconds,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "peak_anon_mb": anonymous.peak_kb / 1024,
        "stdout": out,
    }


class AnonymousPeak:
    """The largest ``RssAnon`` of a running process, read from /proc every 10 ms: the memory it
    allocated itself. Peak RSS also counts the pages of shared libraries it maps, which depend
    on how the page cache holds those files (see docs/PERFORMANCE.md, exports)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._done.wait(0.01):
            try:
                text = status.read_text()
            except OSError:
                return  # gone
            for line in text.splitlines():
                if line.startswith("RssAnon:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def export_data(*args: str, env: dict | None = None, tree: Path = ROOT) -> dict:
    run = timed([PYTHON, "manage.py", "export_data", "readings", *args], env or ENV, cwd=tree)
    key = next(line[5:] for line in run["stdout"].splitlines() if line.startswith("key: "))
    run["path"] = tree / "var" / "exports" / key
    run["bytes"] = int(next(x[7:] for x in run["stdout"].splitlines() if x.startswith("bytes: ")))
    return run


def psql_copy(select: str, out: Path) -> dict:
    return timed(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            DB,
            "-qAt",
            "-c",
            f"\\copy ({select}) TO '{out}' WITH (FORMAT csv, HEADER)",
        ]
    )


def median(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(run[key] for run in runs)


# The least any Django process on PostgreSQL pays before its first query: Django with no
# installed apps, psycopg, one connection. With psql's whole run, it bounds what a management
# command can reach at 100k rows.
DJANGO_FLOOR = """
import django
from django.conf import settings
settings.configure(DATABASES={"default": {"ENGINE": "django.db.backends.postgresql",
    "NAME": "DBNAME", "USER": "postgres", "HOST": "127.0.0.1"}}, INSTALLED_APPS=[])
django.setup()
from django.db import connection
connection.ensure_connection()
import gc
gc.freeze()  # as manage.py does: no shutdown collections over Django's objects
"""
PSYCOPG_FLOOR = "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1/DBNAME').close()"
# pyarrow's import alone (what the Parquet export adds): its peak RSS counts the pages of its
# ~100 MB of shared libraries that the process maps, which depends on how the page cache holds
# them (see docs/PERFORMANCE.md).
PYARROW_IMPORT = "import pyarrow.csv, pyarrow.parquet"


def startup() -> dict:
    help_runs = [timed([PYTHON, "manage.py", "export_data", "--help"], ENV) for _ in range(3)]
    # A whole export of no rows: start-up, connection, the record's bookkeeping, an empty file.
    empty = [export_data("--since", "2100-01-01T00:00:00Z") for _ in range(5)]
    for run in empty:
        run["path"].unlink(missing_ok=True)
    bare = [
        timed([PYTHON, "-c", "import django; django.setup()"], ENV) for _ in range(3)
    ]  # Django and the installed apps, no connection
    floor = [timed([PYTHON, "-c", DJANGO_FLOOR.replace("DBNAME", DB)], ENV) for _ in range(5)]
    driver = [timed([PYTHON, "-c", PSYCOPG_FLOOR.replace("DBNAME", DB)], ENV) for _ in range(5)]
    pyarrow_import = [timed([PYTHON, "-c", PYARROW_IMPORT], ENV) for _ in range(3)]
    trace = subprocess.run(
        [PYTHON, "-X", "importtime", "manage.py", "export_data", "--help"],
        env=ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    heavy = ("pandas", "matplotlib", "numpy", "pyarrow", "boto3", "botocore")
    imported = sorted(
        {line.rsplit("|", 1)[-1].strip() for line in trace.splitlines() if "|" in line} & set(heavy)
    )
    return {
        "export_data_help_s": median(help_runs),
        "export_data_help_cpu_s": median(help_runs, "cpu_s"),
        "export_data_0_rows_s": median(empty),
        "django_setup_s": median(bare),
        "django_setup_cpu_s": median(bare, "cpu_s"),
        "django_no_apps_connected_s": median(floor),
        "psycopg_import_connect_s": median(driver),
        "pyarrow_import_peak_rss_mb": max(run["peak_rss_mb"] for run in pyarrow_import),
        "pyarrow_import_peak_anon_mb": max(run["peak_anon_mb"] for run in pyarrow_import),
        "export_data_help_peak_rss_mb": max(run["peak_rss_mb"] for run in help_runs),
        "heavy_modules_imported": imported,
    }


def main() -> None:
    global DB, ENV
    require(tools=("psql",), services=("postgres",))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--skip-python-path", action="store_true", help="No Python-path JSONL.")
    parser.add_argument("--database", default=DB, help=f"PostgreSQL database (default {DB}).")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="Another checkout whose export_data runs beside this tree's (kinds *_baseline).",
    )
    args = parser.parse_args()
    DB, ENV = args.database, production_env(f"{PG}/{args.database}")
    baseline: Path | None = args.baseline.resolve() if args.baseline else None

    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAt", "-c", f"CREATE DATABASE {DB}"],
        check=False,
        capture_output=True,
    )
    bytecode_compiled(ROOT)
    if baseline:
        bytecode_compiled(baseline)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], env=ENV, cwd=ROOT, check=True)
    subprocess.run([PYTHON, "-c", SEED], env=ENV, cwd=ROOT, check=True)
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-qAt", "-c", "VACUUM ANALYZE"],
        check=True,
    )
    load = os.getloadavg()
    results: dict = {
        "machine": f"{os.cpu_count()} cpus, load average {load[0]:.1f} at start",
        "repeats": args.repeats,
        "cases": {},
    }
    cases = results["cases"]
    work = Path(tempfile.mkdtemp(prefix="exports-bench-"))
    made: list[Path] = []

    cases["startup"] = startup()
    print(f"startup: {json.dumps(cases['startup'])}", flush=True)

    for label, sensor in (("100k", "S0"), ("1M", None)):
        where = "WHERE s.code = 'S0'" if sensor else ""
        extra = ["--sensor", sensor] if sensor else []
        # Parquet at both sizes: its memory must not grow with the rows.
        runs: dict[str, list[dict]] = {"psql": [], "csv": [], "parquet": []}
        if not sensor:
            runs.update(jsonl=[], json=[])
            if not args.skip_python_path:
                runs["jsonl_python_path"] = []
        formats = ("csv", "parquet", "jsonl", "json") if not sensor else ("csv", "parquet")
        if baseline:
            runs.update({f"{fmt}_baseline": [] for fmt in formats})
        for _ in range(args.repeats):
            runs["psql"].append(psql_copy(PLAIN_SELECT.format(where=where), work / "psql.csv"))
            for fmt in formats:
                runs[fmt].append(export_data("--format", fmt, *extra))
                if baseline:
                    runs[f"{fmt}_baseline"].append(
                        export_data("--format", fmt, *extra, tree=baseline)
                    )
            if "jsonl_python_path" in runs:
                runs["jsonl_python_path"].append(timed([PYTHON, "-c", PYTHON_PATH, "jsonl"], ENV))
            for kind, kind_runs in runs.items():
                if kind_runs and "path" in kind_runs[-1]:
                    made.append(kind_runs[-1]["path"])
                elif kind == "jsonl_python_path" and kind_runs:
                    made.append(ROOT / "var" / "exports" / kind_runs[-1]["stdout"].strip())
        case = {kind: round(median(kind_runs), 3) for kind, kind_runs in runs.items()}
        case["cpu_s"] = {
            kind: round(median(kind_runs, "cpu_s"), 3) for kind, kind_runs in runs.items()
        }
        case["peak_rss_mb"] = {
            kind: round(max(run["peak_rss_mb"] for run in kind_runs), 1)
            for kind, kind_runs in runs.items()
        }
        case["peak_anon_mb"] = {
            kind: round(max(run["peak_anon_mb"] for run in kind_runs), 1)
            for kind, kind_runs in runs.items()
        }
        case["csv_vs_psql"] = round(case["csv"] / case["psql"], 2)
        for fmt in ("jsonl", "json", "parquet", "jsonl_python_path"):
            if fmt in case:
                case[f"{fmt}_vs_csv"] = round(case[fmt] / case["csv"], 2)
        if baseline:
            case["baseline_csv_vs_psql"] = round(case["csv_baseline"] / case["psql"], 2)
            for fmt in ("jsonl", "json", "parquet"):
                if f"{fmt}_baseline" in case:
                    case[f"baseline_{fmt}_vs_csv"] = round(
                        case[f"{fmt}_baseline"] / case["csv_baseline"], 2
                    )
        case["csv_bytes"] = runs["csv"][-1]["bytes"]
        cases[label] = case
        print(f"{label}: {json.dumps(case)}", flush=True)
    for fmt in ("csv", "parquet"):
        cases[f"{fmt}_rss_growth_100k_to_1M_pct"] = round(
            100 * (cases["1M"]["peak_rss_mb"][fmt] / cases["100k"]["peak_rss_mb"][fmt] - 1), 1
        )

    if not args.skip_s3:
        from tests.s3_server import SeaweedS3

        server = SeaweedS3.start(work / "seaweed")
        try:
            bucket = server.create_bucket("bench")
            s3_env = {
                **ENV,
                "EXPORTS_S3_BUCKET": bucket,
                "AWS_S3_ENDPOINT_URL": server.endpoint_url,
                "AWS_ACCESS_KEY_ID": server.access_key,
                "AWS_SECRET_ACCESS_KEY": server.secret_key,
                "AWS_S3_REGION_NAME": server.region,
            }
            finished = export_data("--format", "csv")  # the 1M-row file, as the export writes it
            made.append(finished["path"])
            upload = [
                PYTHON,
                "-c",
                UPLOAD,
                server.endpoint_url,
                server.access_key,
                server.secret_key,
                server.region,
                bucket,
                str(finished["path"]),
            ]
            exports, uploads = [], []
            for _ in range(args.repeats):
                uploads.append(timed(upload, ENV))
                exports.append(export_data("--format", "csv", "--storage", "s3", env=s3_env))
            cases["s3_1M"] = {
                "bytes": finished["bytes"],
                "export_data_s3": round(median(exports), 3),
                "upload_file_process": round(median(uploads), 3),
                "ratio": round(median(exports) / median(uploads), 2),
                "export_peak_rss_mb": round(max(run["peak_rss_mb"] for run in exports), 1),
                "upload_peak_rss_mb": round(max(run["peak_rss_mb"] for run in uploads), 1),
            }
            print(f"s3_1M: {json.dumps(cases['s3_1M'])}", flush=True)
        finally:
            server.stop()

    for path in made:
        path.unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "results" / "exports.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
