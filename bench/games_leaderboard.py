"""Leaderboard latency at 10,000 vs 1,000,000 scores on PostgreSQL, side by side.

    .venv/bin/python bench/games_leaderboard.py            # both sizes, then the ratios
    .venv/bin/python bench/games_leaderboard.py --small 10000 --large 1000000 --requests 300

Each size gets its own database (``$BENCH_DB_PREFIX_<n>``, default ``games_bench_<n>``, dropped
and re-created unless --reuse), filled with SQL (random players, modes, points, dates; 70 %
verified; 50 scores per player on average), then its boards are built by the real
``leaderboard_rebuild`` service. Latency is measured through Django's whole request stack (URL
routing, token auth, serializers) with the test client, after a warm-up: GET
/leaderboards/{mode}/ (top 10, all-time and this week, verified=true), /me/ for the
median-ranked player, and the same two for last calendar month (``period=month&at=<a day of
it>``, verified by default, for the median of that month's board). Both sizes run at once in two
server processes and are measured in alternating batches of 20 requests, so a busy machine slows
both alike; the ratio is what to read. Reported: wall-clock p50/p95, the Django process's CPU
time p50, and the SQL execution time of the request's board queries (EXPLAIN ANALYZE), whose plans
are summarised (and printed whole with --plans) so the index scans can be checked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from needs import require

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"
# Each size gets its own database, named with this prefix (one per engineer on a shared machine).
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "games_bench")
SCORES_PER_PLAYER = 50


def run_child(n_scores: int, reuse: bool) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{PG}/{DB_PREFIX}_{n_scores}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "targets_site.settings_test"
    # The benchmark measures the query path, not the rate limiter.
    os.environ["API_THROTTLE_RATES"] = ",".join(
        f"{s}=1000000/min" for s in ("anon", "user", "login", "register", "scores", "readings")
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from games import services
    from games.models import LeaderboardEntry, Score

    call_command("migrate", verbosity=0)
    players = max(n_scores // SCORES_PER_PLAYER, 10)
    if not reuse or Score.objects.count() != n_scores:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE games_leaderboardentry, games_score, authtoken_token CASCADE")
            cursor.execute("DELETE FROM auth_user WHERE username LIKE 'bench%%'")
            cursor.execute(
                """
                INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                       email, is_staff, is_active, date_joined)
                SELECT '!', false, 'bench' || g, '', '', '', false, true, now()
                FROM generate_series(1, %s) g
                """,
                [players],
            )
            cursor.execute("SELECT min(id) FROM auth_user WHERE username LIKE 'bench%%'")
            first_id = cursor.fetchone()[0]
            cursor.execute(
                """
                INSERT INTO games_score (player_id, mode, points, hits, misses, duration_s,
                    client_version, played_at, submission_id, submission_digest, verified,
                    flagged, created_at, unverified_reason, review_status, review_reason)
                SELECT %s + floor(random() * %s)::int,
                       CASE WHEN random() < 0.5 THEN 'moving' ELSE 'bullseye' END,
                       h * (50 + floor(random() * 50)::int), h, floor(random() * 20)::int, 60,
                       'bench', now() - random() * interval '365 days', gen_random_uuid(), '',
                       random() < 0.7, false, now(), '', 'none', ''
                FROM (SELECT 5 + floor(random() * 60)::int AS h
                      FROM generate_series(1, %s)) AS g
                """,
                [first_id, players, n_scores],
            )
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        rows = services.leaderboard_rebuild()
        rebuild_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        load_s = rebuild_s = 0.0
        rows = LeaderboardEntry.objects.count()

    def median_client(board_key: str) -> Client:
        """A client signed in as the median-ranked player of a board."""
        board = LeaderboardEntry.objects.filter(board=board_key).order_by(
            "neg_points", "played_at", "score_id"
        )
        median = board[board.count() // 2]
        token, _ = Token.objects.get_or_create(user_id=median.player_id)
        return Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    # A past month: the calendar month before this one (the data spans the last 365 days).
    last_month = (dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)).replace(
        day=1
    )
    at = (last_month + dt.timedelta(days=14)).isoformat()
    month_key = f"bullseye:verified:month:{last_month.isoformat()}"
    clients = {
        "all": median_client("bullseye:verified:all:1970-01-01"),
        "month": median_client(month_key),
    }
    urls = {
        "top10_all": ("all", "/api/v1/leaderboards/bullseye/?verified=true&limit=10"),
        "top10_week": ("all", "/api/v1/leaderboards/bullseye/?verified=true&limit=10&period=week"),
        "me_median": ("all", "/api/v1/leaderboards/bullseye/me/?verified=true"),
        "top10_past_month": (
            "month",
            f"/api/v1/leaderboards/bullseye/?period=month&at={at}&limit=10",
        ),
        "me_past_month": ("month", f"/api/v1/leaderboards/bullseye/me/?period=month&at={at}"),
    }
    for who, url in urls.values():  # warm-up: caches, connections, plans
        for _ in range(20):
            assert clients[who].get(url).status_code == 200
    emit(
        {
            "scores": n_scores,
            "players": players,
            "board_rows": rows,
            "load_s": round(load_s, 1),
            "rebuild_s": round(rebuild_s, 1),
        }
    )
    # Serve measurement commands, so the parent can interleave both sizes in time: on a shared,
    # busy machine that is what makes their ratio meaningful.
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "measure":
            (who, url), count = urls[rest[0]], int(rest[1])
            client = clients[who]
            wall, cpu = [], []
            for _ in range(count):
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                assert response.status_code == 200
            emit({"wall": wall, "cpu": cpu})
        elif command == "plans":
            plans: dict[str, list[str]] = {}
            for name, (who, url) in urls.items():
                with CaptureQueriesContext(connection) as captured:
                    clients[who].get(url)
                plans[name] = []
                with connection.cursor() as cursor:
                    for query in captured.captured_queries:
                        if "games_leaderboardentry" not in query["sql"]:
                            continue
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                        plans[name].append("\n".join(row[0] for row in cursor.fetchall()))
            emit(plans)
        else:
            return


def emit(data: object) -> None:
    print("RESULT " + json.dumps(data), flush=True)


class Child:
    def __init__(self, size: int, reuse: bool) -> None:
        command = [sys.executable, __file__, "--child", str(size)]
        if reuse:
            command.append("--reuse")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.info = self.read()

    def read(self):
        for line in self.process.stdout:
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT ") :])
        sys.exit(f"bench child exited with {self.process.wait()}")

    def ask(self, command: str):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait()


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(int(len(ordered) * share) - 1, 0)]


def execution_ms(plan: str) -> float:
    return float(plan.rsplit("Execution Time:", 1)[1].split()[0])


def ensure_database(name: str, reuse: bool) -> None:
    def psql(sql: str) -> None:
        subprocess.run(["psql", f"{PG}/postgres", "-q", "-c", sql], check=True, capture_output=True)

    if not reuse:
        psql(f"DROP DATABASE IF EXISTS {name}")
    exists = subprocess.run(
        ["psql", f"{PG}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not exists:
        psql(f"CREATE DATABASE {name}")


def main() -> None:
    require(tools=("psql",), services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="keep existing bench databases")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plans", action="store_true", help="print every EXPLAIN plan")
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.reuse)
        return

    children = {}
    for size in (args.small, args.large):
        ensure_database(f"{DB_PREFIX}_{size}", args.reuse)
        children[size] = Child(size, args.reuse)
    names = ["top10_all", "top10_week", "me_median", "top10_past_month", "me_past_month"]
    samples = {size: {name: {"wall": [], "cpu": []} for name in names} for size in children}
    batch = 20
    for round_number in range(max(args.requests // batch, 1)):
        for name in names:
            order = list(children) if round_number % 2 == 0 else list(children)[::-1]
            for size in order:
                got = children[size].ask(f"measure {name} {batch}")
                samples[size][name]["wall"] += got["wall"]
                samples[size][name]["cpu"] += got["cpu"]
    plans = {size: worker.ask("plans") for size, worker in children.items()}
    for child in children.values():
        child.close()

    small, large = children[args.small].info, children[args.large].info
    print(
        f"scores: {small['scores']:,} vs {large['scores']:,}; players {small['players']:,} vs "
        f"{large['players']:,}; board rows {small['board_rows']:,} vs {large['board_rows']:,}"
    )
    if large["load_s"]:
        print(f"load {large['load_s']} s, rebuild_leaderboards {large['rebuild_s']} s (large)")
    print(
        f"{'request':<11} {'wall p50 small/large':>22} {'x':>6} {'wall p95 small/large':>22} "
        f"{'x':>6} {'cpu p50 small/large':>21} {'x':>6} {'SQL ms small/large':>19} {'x':>6}"
    )
    table = {}
    for name in names:
        a, b = samples[args.small][name], samples[args.large][name]
        row = {}
        for label, kind, share in (
            ("wall_p50", "wall", 0.5),
            ("wall_p95", "wall", 0.95),
            ("cpu_p50", "cpu", 0.5),
        ):
            row[label] = (percentile(a[kind], share), percentile(b[kind], share))
        row["sql"] = tuple(
            sum(execution_ms(plan) for plan in plans[size][name]) for size in children
        )
        table[name] = row
        cells = " ".join(f"{x:>9.2f} /{y:>9.2f}ms {y / x:>5.2f}x" for x, y in row.values())
        print(f"{name:<11} {cells}")
    for name, request_plans in plans[args.large].items():
        for plan in request_plans:
            lines = plan.splitlines()
            scans = [line.strip().lstrip("-> ").split("  (")[0] for line in lines if "Scan" in line]
            print(f"{name} (large): {' | '.join(scans)} | {lines[-1].strip()}")
            if args.plans:
                print(plan)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "games_leaderboard.json").write_text(
        json.dumps({"info": [small, large], "table": table, "plans": plans}, indent=1)
    )


if __name__ == "__main__":
    main()
