"""Exports benchmarks on PostgreSQL, side by side with their baselines in one run.

    .venv/bin/python bench/exports_bench.py                 # 100k and 1M readings, 3 repeats
    .venv/bin/python bench/exports_bench.py --repeats 1 --skip-import-export
    .venv/bin/python bench/exports_bench.py --only-s3 --repeats 5     # case 2 alone

1. ``export_data readings --format csv`` to local storage (the service, COPY path) vs
   ``psql -c "\\copy (SELECT ...) TO FILE CSV HEADER"`` of the same rows and columns (and of the
   exporter's own SELECT, with its formula escaping and ISO times): wall time and peak RSS, for
   100,000 (one sensor) and 1,000,000 rows (all ten).
2. The same 1M-row export to S3 (SeaweedFS on loopback; parts go up while rows are written) vs
   boto3 ``upload_file`` of the finished file alone (the exports TransferConfig).
3. For reference: django-import-export ``ModelResource.export()`` of the same readings to CSV.

Every measurement runs in a fresh child process (its own peak RSS, from getrusage); times are the
export work itself, after Django has started (startup is reported separately). The data lives in
its own database (``exports_bench``, re-seeded through the Reading model only when it does not
hold exactly the expected rows). Results also go to ``bench/results/exports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DB = "exports_bench"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SENSORS = 10
PER_SENSOR = 100_000

ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB}",
    "DJANGO_SECRET_KEY": "bench-only-" + "b" * 50,
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_HSTS_SECONDS": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_LOG_LEVEL": "warning",
    "DJANGO_SETTINGS_MODULE": "targets_site.settings",
}

PLAIN_SELECT = (
    "SELECT s.code AS sensor, r.timestamp, r.value FROM sensors_reading r "
    "JOIN sensors_sensor s ON s.id = r.sensor_id {where} ORDER BY r.sensor_id, r.timestamp"
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child side ---------------------------------------------------------------------------


def child_setup(storage_root: str | None) -> float:
    import django

    django.setup()
    if storage_root:
        from django.conf import settings

        settings.EXPORTS_LOCAL_ROOT = Path(storage_root)
        settings.STORAGES = {
            **settings.STORAGES,
            "exports": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": storage_root, "base_url": None},
            },
        }
    return rss_mb()


def child_seed() -> dict:
    import datetime as dt

    from django.db import transaction

    from sensors.models import Reading, Sensor

    expected = SENSORS * PER_SENSOR
    if Reading.objects.count() == expected and Sensor.objects.count() == SENSORS:
        return {"seeded": False, "rows": expected}
    started = time.perf_counter()
    Reading.objects.all().delete()
    Sensor.objects.all().delete()
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for index in range(SENSORS):
        sensor = Sensor.objects.create(code=f"S{index}", name=f"Sensor {index}", high_threshold=65)
        for start in range(0, PER_SENSOR, 20_000):
            with transaction.atomic():
                Reading.objects.bulk_create(
                    Reading(
                        sensor=sensor,
                        timestamp=t0 + dt.timedelta(seconds=30 * i, microseconds=i % 7),
                        value=round(60 + 10 * ((i * 7919) % 1000) / 1000, 3),
                    )
                    for i in range(start, start + 20_000)
                )
    return {"seeded": True, "rows": expected, "seconds": time.perf_counter() - started}


def child_export(storage: str, sensor: str | None, force_python: bool, root: str | None) -> dict:
    from django.core.files.storage import Storage

    from exports import services

    timing: dict[str, float] = {}
    real_save = Storage.save

    def timed_save(self, name, content, max_length=None):
        started = time.perf_counter()
        try:
            return real_save(self, name, content, max_length=max_length)
        finally:
            timing["store_s"] = time.perf_counter() - started

    Storage.save = timed_save  # the storage leg alone: a rename locally
    from exports.s3_upload import S3PipelinedUpload

    real_finish, real_complete = S3PipelinedUpload.finish, S3PipelinedUpload.complete

    def timed(real, mark):
        def wrapper(self):
            started = time.perf_counter()
            try:
                return real(self)
            finally:
                timing[mark] = time.perf_counter() - started

        return wrapper

    # On S3 the parts go up while rows are written: what is left after the last row (the
    # last parts, the key check and complete_multipart_upload) is the storage leg.
    S3PipelinedUpload.finish = timed(real_finish, "finish_s")
    S3PipelinedUpload.complete = timed(real_complete, "complete_s")
    filters = {"sensor": sensor} if sensor else {}
    export = services.export_start(dataset="readings", fmt="csv", filters=filters, storage=storage)
    started = time.perf_counter()
    export = services.export_execute(export=export, force_python=force_python)
    seconds = time.perf_counter() - started
    if export.status != "succeeded":
        raise SystemExit(f"export failed: {export.error}")
    path = str(Path(root) / export.key) if root and storage == "local" else None
    if "finish_s" in timing:
        timing["store_s"] = timing["finish_s"] + timing.get("complete_s", 0.0)
    return {
        "seconds": seconds,
        "store_s": timing.get("store_s"),
        "rows": export.rows,
        "bytes": export.bytes,
        "path": path,
    }


def child_upload(path: str) -> dict:
    from exports.storage import EXPORTS_TRANSFER_CONFIG, export_storage

    storage = export_storage("s3")  # the same client options, bucket and transfer config
    bucket = storage.bucket
    started = time.perf_counter()
    bucket.Object(f"baseline/{Path(path).name}").upload_file(path, Config=EXPORTS_TRANSFER_CONFIG)
    return {"seconds": time.perf_counter() - started, "bytes": os.path.getsize(path)}


def child_import_export(out: str, sensor: str | None) -> dict:
    from import_export import fields, resources

    from sensors.models import Reading

    class ReadingResource(resources.ModelResource):
        sensor = fields.Field(attribute="sensor__code", column_name="sensor")

        class Meta:
            model = Reading
            fields = ("sensor", "timestamp", "value")
            export_order = ("sensor", "timestamp", "value")

    started = time.perf_counter()
    queryset = Reading.objects.select_related("sensor").order_by("sensor_id", "timestamp")
    if sensor:
        queryset = queryset.filter(sensor__code=sensor)
    dataset = ReadingResource().export(queryset=queryset)
    text = dataset.csv
    Path(out).write_text(text)
    return {"seconds": time.perf_counter() - started, "rows": len(dataset), "bytes": len(text)}


def child_main(argv: list[str]) -> None:
    mode, *rest = argv
    options = json.loads(rest[0]) if rest else {}
    setup_started = time.perf_counter()
    baseline = child_setup(options.get("root"))
    setup_seconds = time.perf_counter() - setup_started
    if mode == "seed":
        result = child_seed()
    elif mode == "export":
        result = child_export(
            options["storage"],
            options.get("sensor"),
            options.get("python", False),
            options.get("root"),
        )
    elif mode == "upload":
        result = child_upload(options["path"])
    elif mode == "import_export":
        result = child_import_export(options["out"], options.get("sensor"))
    else:
        raise SystemExit(f"unknown mode {mode}")
    result.update(setup_seconds=setup_seconds, rss_after_setup_mb=baseline, peak_rss_mb=rss_mb())
    print(json.dumps(result))


# --- parent side --------------------------------------------------------------------------


def child(mode: str, env: dict, **options) -> dict:
    completed = subprocess.run(
        [PYTHON, __file__, "--child", mode, json.dumps(options)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def psql_copy(select: str, out: str) -> dict:
    command = [
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
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "bytes": os.path.getsize(out),
        "peak_rss_mb": max(after, before) / 1024,
    }


def exporter_select(env: dict, sensor: str | None) -> str:
    filters = {"sensor": sensor} if sensor else {}
    code = (
        "import django; django.setup();"
        "from exports.datasets import dataset_get;"
        "from django.db import connection;"
        f"qs = dataset_get('readings').csv_copy_queryset({filters!r});"
        "sql, params = qs.query.get_compiler(using=qs.db).as_sql();"
        "print(connection.cursor().cursor.mogrify(sql, params))"
    )
    completed = subprocess.run(
        [PYTHON, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


def median_of(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-import-export", action="store_true")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument(
        "--only-s3",
        action="store_true",
        help="Run only the S3 case (1M rows; the file to upload comes from psql \\copy).",
    )
    parser.add_argument(
        "--import-export-sensor",
        help="Limit the django-import-export run to one sensor (100k rows) instead of all 1M.",
    )
    args = parser.parse_args()

    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAt", "-c", f"CREATE DATABASE {DB}"],
        check=False,
        capture_output=True,
    )
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], env=ENV, cwd=ROOT, check=True)
    seeded = child("seed", ENV)
    print(f"seed: {seeded}", flush=True)
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-qAt", "-c", "VACUUM ANALYZE"],
        check=True,
    )

    results: dict = {"machine": f"{os.cpu_count()} cpus", "repeats": args.repeats, "cases": {}}
    work = Path(tempfile.mkdtemp(prefix="exports-bench-"))
    root = str(work / "storage")
    cases = results["cases"]

    if args.only_s3:
        args.skip_import_export = True
        psql_copy(exporter_select(ENV, None), str(work / "psql-same.csv"))
    for label, sensor in () if args.only_s3 else (("100k", "S0"), ("1M", None)):
        where = "WHERE s.code = 'S0'" if sensor else ""
        exporter_sql = exporter_select(ENV, sensor)
        runs: dict[str, list[dict]] = {
            "export": [],
            "export_python": [],
            "psql": [],
            "psql_same_select": [],
        }
        for _ in range(args.repeats):
            # Interleaved, so drift on a shared machine hits every side alike.
            runs["psql"].append(psql_copy(PLAIN_SELECT.format(where=where), str(work / "psql.csv")))
            runs["psql_same_select"].append(psql_copy(exporter_sql, str(work / "psql-same.csv")))
            runs["export"].append(child("export", ENV, storage="local", sensor=sensor, root=root))
            runs["export_python"].append(
                child("export", ENV, storage="local", sensor=sensor, root=root, python=True)
            )
        last = runs["export"][-1]
        # Everything but the header line (psql names the columns c0, c1, ...).
        same = (work / "psql-same.csv").read_bytes().split(b"\n", 1)[1] == Path(
            last["path"]
        ).read_bytes().split(b"\n", 1)[1]
        cases[label] = {
            "rows": last["rows"],
            "bytes": last["bytes"],
            "export_s": median_of(runs["export"]),
            "export_python_path_s": median_of(runs["export_python"]),
            "psql_copy_s": median_of(runs["psql"]),
            "psql_copy_same_select_s": median_of(runs["psql_same_select"]),
            "export_peak_rss_mb": max(run["peak_rss_mb"] for run in runs["export"]),
            "export_rss_after_setup_mb": max(run["rss_after_setup_mb"] for run in runs["export"]),
            "export_python_peak_rss_mb": max(run["peak_rss_mb"] for run in runs["export_python"]),
            "django_setup_s": median_of(runs["export"], "setup_seconds"),
            "export_file_equals_psql_same_select_file": same,
        }
        case = cases[label]
        case["ratio_vs_psql"] = case["export_s"] / case["psql_copy_s"]
        case["ratio_vs_psql_same_select"] = case["export_s"] / case["psql_copy_same_select_s"]
        print(f"{label}: {json.dumps(case)}", flush=True)

    if not args.only_s3:
        cases["rss_growth_100k_to_1M_pct"] = 100 * (
            cases["1M"]["export_peak_rss_mb"] / cases["100k"]["export_peak_rss_mb"] - 1
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
            path = str(work / "psql-same.csv")  # the 1M-row file, as the exporter writes it
            exports, uploads = [], []
            for _ in range(args.repeats):
                uploads.append(child("upload", s3_env, path=path))
                exports.append(child("export", s3_env, storage="s3", root=root))
            cases["s3_1M"] = {
                "bytes": exports[-1]["bytes"],
                "export_to_s3_s": median_of(exports),
                "export_s3_store_leg_s": median_of(exports, "store_s"),
                "boto3_upload_file_s": median_of(uploads),
                "export_peak_rss_mb": max(run["peak_rss_mb"] for run in exports),
                "upload_peak_rss_mb": max(run["peak_rss_mb"] for run in uploads),
            }
            s3 = cases["s3_1M"]
            s3["ratio"] = s3["export_to_s3_s"] / s3["boto3_upload_file_s"]
            s3["store_leg_ratio"] = s3["export_s3_store_leg_s"] / s3["boto3_upload_file_s"]
            print(f"s3_1M: {json.dumps(cases['s3_1M'])}", flush=True)
        finally:
            server.stop()

    if not args.skip_import_export:
        sensor = args.import_export_sensor
        run = child("import_export", ENV, out=str(work / "import-export.csv"), sensor=sensor)
        same_case = cases["100k" if sensor else "1M"]
        cases["import_export"] = {
            "rows": run["rows"],
            "seconds": run["seconds"],
            "peak_rss_mb": run["peak_rss_mb"],
            "ratio_vs_export": run["seconds"] / same_case["export_s"],
            "rss_ratio_vs_export": run["peak_rss_mb"] / same_case["export_peak_rss_mb"],
        }
        print(f"import_export: {json.dumps(cases['import_export'])}", flush=True)

    out = ROOT / "bench" / "results" / ("exports_s3.json" if args.only_s3 else "exports.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        main()
