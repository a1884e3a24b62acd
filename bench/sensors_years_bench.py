"""10M readings of one sensor: stats and plots over all of them next to a 10,000-reading window.

    .venv/bin/python bench/sensors_years_bench.py                   # 10,000,000 readings
    .venv/bin/python bench/sensors_years_bench.py --readings 1000000 --repeats 3

1. Its own database (``sensors_years_bench``, dropped, re-created and migrated each run). One
   sensor, ``YEARS`` (high threshold 64), gets ``--readings`` readings one every ``--step``
   seconds (10M at 1 s: 116 days; at 3 s: 347 days), ending where this month begins, inserted
   with ``generate_series`` in one SQL statement into the partitioned readings table, whose
   monthly partitions are made first by ``readings_partitions_ensure`` (what check_thresholds
   runs): the fastest honest import. The API's own ingest is benchmarked by
   ``sensors_bench.py``.
2. The per-minute and per-hour rollups of the whole range built by ``rollups_refresh``, the
   function check_thresholds runs for every ReadingMark an ingest leaves (timed; the alert
   evaluation check_thresholds also runs is left out: no stats or plot reads alerts).
3. gunicorn (one worker) answers, timed from this process, whole range and window in turns,
   median of ``--repeats``:
   - ``GET /api/v1/sensors/YEARS/plot.png`` (1000x450 px);
   - ``GET /api/v1/sensors/YEARS/stats/?bucket=1h``;
   - the plot again with every reading breaching (the high threshold set under the data),
   each over the whole range (no ``from``/``to``) and over the last 10,000 readings. Goal: the
   whole range at most 2x the window. The worker's mean CPU per request is reported beside the
   wall time (steadier on a shared machine).

Results also go to ``bench/results/sensors_years.json``. ``--reuse`` keeps a database loaded
by an earlier run with the same ``--readings`` and ``--step`` (for working on the requests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from needs import require
from sensors_bench import ENV, PG, ROOT, Gunicorn, fresh_database, process_cpu

DB = "sensors_years_bench"
PORT = 8775
WINDOW = 10_000
CASES = {
    "plot.png": ("plot.png", {"width": 1000, "height": 450}),
    "stats/?bucket=1h": ("stats/", {"bucket": "1h"}),
    "plot.png, every reading breaching": ("plot.png", {"width": 1000, "height": 450}),
}


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "targets_site.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def months_between(start: datetime, end: datetime) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def load_readings(readings: int, start: datetime, step: int) -> float:
    """Partitions for the range, then ``readings`` rows in one INSERT; wall seconds of both."""
    from django.db import connection

    from sensors.models import Sensor
    from sensors.services.retention import readings_partitions_ensure

    sensor = Sensor.objects.create(code="YEARS", name="A year at 3 s", high_threshold=64)
    end = start + timedelta(seconds=step * (readings - 1))
    began = time.perf_counter()
    readings_partitions_ensure(now=start, ahead=months_between(start, end))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        # A daily cycle around 55 with a little noise: the peaks breach the threshold of 64.
        cursor.execute(
            "INSERT INTO sensors_reading (sensor_id, timestamp, value) "
            "SELECT %s, %s + make_interval(secs => i * %s), "
            "55 + 10 * sin(2 * pi() * i * %s / 86400.0) + random() - 0.5 "
            "FROM generate_series(0, %s - 1) AS i",
            [sensor.id, start, step, step, readings],
        )
        cursor.execute("ANALYZE sensors_reading")
    return time.perf_counter() - began


def build_rollups(start: datetime, end: datetime) -> float:
    """The rollups of the whole range, as check_thresholds builds them; wall seconds."""
    from sensors.models import Sensor
    from sensors.services.rollups import rollups_refresh

    began = time.perf_counter()
    rollups_refresh(sensor_id=Sensor.objects.get(code="YEARS").id, spans=[(start, end)])
    return time.perf_counter() - began


def loaded(readings: int, start: datetime) -> bool:
    """The database holds ``readings`` readings of YEARS from ``start`` and their rollups."""
    from django.db import DatabaseError

    from sensors.models import Reading, ReadingRollup

    try:
        count = Reading.objects.filter(sensor__code="YEARS").count()
    except DatabaseError:
        return False
    first = Reading.objects.filter(sensor__code="YEARS").order_by("timestamp").first()
    return (
        count == readings
        and first is not None
        and first.timestamp == start
        and ReadingRollup.objects.filter(sensor__code="YEARS").exists()
    )


def time_request(server: Gunicorn, path: str, params: dict) -> tuple[float, float]:
    """(wall seconds, worker CPU seconds) of one GET, checked to be a 200."""
    import requests

    cpu = process_cpu(server.worker_pids())
    began = time.perf_counter()
    response = requests.get(
        f"{server.base}/api/v1/sensors/YEARS/{path}", params=params, timeout=300
    )
    wall = time.perf_counter() - began
    if response.status_code != 200:
        raise SystemExit(f"{path} {params}: {response.status_code} {response.text[:300]}")
    return wall, process_cpu(server.worker_pids()) - cpu


def main() -> None:
    require(tools=("psql",), services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--step", type=int, default=1, help="seconds between readings")
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    args = parser.parse_args()

    env = {**ENV, "DATABASE_URL": f"{PG}/{DB}"}
    setup_django(env)
    from django.db import connections

    from sensors.models import Sensor

    step = args.step
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = month - timedelta(seconds=step * args.readings)
    end = start + timedelta(seconds=step * (args.readings - 1))
    window = {"from": (end - timedelta(seconds=step * (WINDOW - 1))).isoformat()}
    window["to"] = end.isoformat()
    reuse = args.reuse and loaded(args.readings, start)
    if not reuse:
        connections.close_all()  # the check above may have connected
        fresh_database(ROOT, DB)
    results: dict = {
        "readings": args.readings,
        "step_s": step,
        "first": start.isoformat(),
        "last": end.isoformat(),
    }
    if not reuse:
        print(f"loading {args.readings:,} readings from {start:%Y-%m-%d} ...", file=sys.stderr)
        results["load_s"] = load_readings(args.readings, start, step)
        print(f"  {results['load_s']:.1f} s; rollups ...", file=sys.stderr)
        results["rollups_s"] = build_rollups(start, end)
        print(f"  {results['rollups_s']:.1f} s", file=sys.stderr)

    timings: dict[str, dict[str, list[tuple[float, float]]]] = {
        case: {"whole": [], "window": []} for case in CASES
    }
    with Gunicorn(ROOT, env, PORT, workers=1) as server:
        for case, (path, params) in CASES.items():
            breaching = case.endswith("breaching")
            Sensor.objects.filter(code="YEARS").update(high_threshold=30 if breaching else 64)
            time_request(server, path, params)  # warm: imports, caches, the connection
            for _ in range(args.repeats):
                timings[case]["whole"].append(time_request(server, path, params))
                timings[case]["window"].append(time_request(server, path, {**params, **window}))

    results["cases"] = {}
    print(f"\n{'':38}{'whole range':>14}{'10k window':>14}{'ratio':>8}   (worker CPU ratio)")
    for case, runs in timings.items():
        whole = statistics.median(wall for wall, _ in runs["whole"])
        part = statistics.median(wall for wall, _ in runs["window"])
        # Means: /proc counts CPU in 10 ms ticks, coarser than one stats request.
        whole_cpu = statistics.mean(cpu for _, cpu in runs["whole"])
        part_cpu = statistics.mean(cpu for _, cpu in runs["window"])
        results["cases"][case] = {
            "whole_s": whole,
            "window_s": part,
            "ratio": whole / part,
            "whole_worker_cpu_s": whole_cpu,
            "window_worker_cpu_s": part_cpu,
            "cpu_ratio": whole_cpu / part_cpu if part_cpu else None,
            "runs": runs,
        }
        cpu_ratio = f"{whole_cpu / part_cpu:.2f}x" if part_cpu else "-"
        print(f"{case:38}{whole:13.3f}s{part:13.3f}s{whole / part:7.2f}x   ({cpu_ratio})")
    out = ROOT / "bench" / "results" / "sensors_years.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
