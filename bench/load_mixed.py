#!/usr/bin/env python
"""Mixed load on the production stack, then count every acknowledged write in the database.

    .venv/bin/python bench/load_mixed.py [--users 64] [--duration 60] [--workers 4]

gunicorn (``--workers`` sync workers, debug off, plain HTTP on 127.0.0.1), PostgreSQL database
``bench_load`` (dropped and re-created each run), a private redis-server as the shared throttle
cache (throttle rates raised out of the way: this measures the site, not the limiter). Locust
(``bench/load_locustfile.py``) runs ``--users`` concurrent users for ``--duration`` seconds:
item list and item reads, leaderboard reads, reading batches of 100, score submissions.
Afterwards every acknowledged score (by submission_id) and every acknowledged reading is looked
up in the database. Prints requests/s, p50/p99, the 5xx count and the write accounting.
Not a test: figures go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import requests
from needs import require

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests.faults.servers import Gunicorn, PrivateRedis, manage, migrate, production_env  # noqa: E402

DATABASE = "bench_load"
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"

SEED = """
import json
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from items.models import Item
from sensors.models import Sensor
User = get_user_model()
Item.objects.bulk_create(
    Item(sku=f"LOAD-{n:05d}", name=f"Load item {n}", price=Decimal(n) / 10, stock_quantity=n % 50)
    for n in range(1, 1001)
)
for code, high in (("A", 65), ("B", 70), ("C", None)):
    Sensor.objects.create(code=code, name=code, unit="C", high_threshold=high, low_threshold=48)
# Token-only accounts: no password hashing to wait for.
device = User.objects.create_user("load-device", password=None)
device.user_permissions.add(Permission.objects.get(codename="add_reading"))
players = [User.objects.create_user(f"load-player-{n}", password=None) for n in range(PLAYERS)]
print(json.dumps({
    "tokens": {
        "device": Token.objects.create(user=device).key,
        "players": [Token.objects.create(user=p).key for p in players],
    },
    "item_ids": list(Item.objects.values_list("id", flat=True)),
}))
"""


def recreate_database() -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")


def count_writes(acks: dict) -> dict:
    dsn = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
    with psycopg.connect(dsn) as conn:
        stored_ids = {
            str(row[0])
            for row in conn.execute(
                "SELECT submission_id FROM games_score WHERE client_version = 'load'"
            )
        }
        readings = conn.execute("SELECT count(*) FROM sensors_reading").fetchone()[0]
    acked_ids = set(acks["scores"])
    return {
        "scores_acknowledged": len(acks["scores"]),
        "scores_acknowledged_unique": len(acked_ids),
        "scores_in_database": len(stored_ids),
        "acknowledged_scores_missing": len(acked_ids - stored_ids),
        "scores_stored_but_not_acknowledged": len(stored_ids - acked_ids),
        "readings_acknowledged": acks["readings"],
        "reading_batches_acknowledged": acks["reading_batches"],
        "readings_in_database": readings,
    }


def main() -> int:
    require(tools=("locust",), services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    recreate_database()
    redis = PrivateRedis().start()
    env = production_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        REDIS_URL=redis.url,
        API_THROTTLE_RATES=(
            "anon=100000/s,user=100000/s,scores=100000/s,readings=100000/s,login=100000/s"
        ),
    )
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    server = None
    try:
        migrate(env)
        seeded = manage("shell", "-c", SEED.replace("PLAYERS", str(args.users)), env=env)
        if seeded.returncode != 0:
            raise SystemExit(seeded.stderr)
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        server = Gunicorn(env, workers=args.workers, log=tmp / "gunicorn.log").start()
        # Warm every worker (each imports the app on its first request) before measuring.
        for _ in range(args.workers * 10):
            requests.get(f"{server.url}/api/v1/items/?page_size=50", timeout=60)
        ack_file = tmp / "acks.json"
        locust_env = {
            **env,
            "LOAD_TOKENS": json.dumps(seed["tokens"]),
            "LOAD_ITEM_IDS": json.dumps(seed["item_ids"]),
            "LOAD_ACK_FILE": str(ack_file),
        }
        command = [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(BASE_DIR / "bench" / "load_locustfile.py"),
            "--headless",
            "--only-summary",
            "--users",
            str(args.users),
            "--spawn-rate",
            str(args.users),
            "--run-time",
            f"{args.duration}s",
            "--stop-timeout",
            "10",
            "--host",
            server.url,
            "--csv",
            str(tmp / "locust"),
        ]
        print("$", " ".join(command), flush=True)
        subprocess.run(command, env=locust_env, check=False, timeout=args.duration + 120)
        server.stop()
        server = None
        acks = json.loads(ack_file.read_text())
        with (tmp / "locust_stats.csv").open() as handle:
            rows = {row["Name"]: row for row in csv.DictReader(handle)}
        total = rows["Aggregated"]
        summary = {
            "requests": int(total["Request Count"]),
            "failures": int(total["Failure Count"]),
            "server_errors_5xx": acks["server_errors"]["count"],
            "requests_per_s": round(float(total["Requests/s"]), 1),
            "p50_ms": float(total["50%"]),
            "p99_ms": float(total["99%"]),
            "by_endpoint": {
                name: {
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50_ms": float(row["50%"]),
                    "p99_ms": float(row["99%"]),
                }
                for name, row in rows.items()
                if name != "Aggregated"
            },
            **count_writes(acks["acknowledged"]),
        }
        print(json.dumps(summary, indent=2))
        lost = summary["acknowledged_scores_missing"] or (
            summary["readings_in_database"] != summary["readings_acknowledged"]
        )
        return 1 if summary["server_errors_5xx"] or lost else 0
    finally:
        if server:
            server.stop()
        redis.stop()


if __name__ == "__main__":
    sys.exit(main())
