"""Leaderboard latency at 10,000 vs 1,000,000 scores on PostgreSQL, side by side.

    .venv/bin/python bench/games_leaderboard.py            # both sizes, then the ratios
    .venv/bin/python bench/games_leaderboard.py --small 10000 --large 1000000 --requests 300

Each size gets its own database (``games_bench_<n>``, dropped and re-created unless --reuse),
filled with SQL (random players, modes, points, dates; 70 % verified; 50 scores per player on
average), then its boards are built by the real ``leaderboard_rebuild`` service. Latency is
measured through Django's whole request stack (URL routing, token auth, serializers) with the
test client, after a warm-up: GET /leaderboards/{mode}/ (top 10, all-time and this week,
verified=true) and /me/ for the median-ranked player. EXPLAIN (ANALYZE, BUFFERS) of each query
is printed so the index scans can be checked.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"
SCORES_PER_PLAYER = 50


def child(n_scores: int, requests: int, reuse: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{PG}/games_bench_{n_scores}"
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
                    flagged, created_at)
                SELECT %s + floor(random() * %s)::int,
                       CASE WHEN random() < 0.5 THEN 'moving' ELSE 'bullseye' END,
                       h * (50 + floor(random() * 50)::int), h, floor(random() * 20)::int, 60,
                       'bench', now() - random() * interval '365 days', gen_random_uuid(), '',
                       random() < 0.7, false, now()
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

    # The median player of the verified all-time bullseye board.
    board = LeaderboardEntry.objects.filter(board="bullseye:verified:all:1970-01-01").order_by(
        "neg_points", "played_at", "score_id"
    )
    median = board[board.count() // 2]
    token, _ = Token.objects.get_or_create(user_id=median.player_id)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    urls = {
        "top10_all": "/api/v1/leaderboards/bullseye/?verified=true&limit=10",
        "top10_week": "/api/v1/leaderboards/bullseye/?verified=true&limit=10&period=week",
        "me_median": "/api/v1/leaderboards/bullseye/me/?verified=true",
    }
    timings: dict[str, dict[str, float]] = {}
    plans: dict[str, list[str]] = {}
    for name, url in urls.items():
        for _ in range(20):
            assert client.get(url).status_code == 200
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        samples.sort()
        timings[name] = {
            "p50_ms": statistics.median(samples),
            "p95_ms": samples[int(len(samples) * 0.95) - 1],
        }
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        plans[name] = []
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if "games_leaderboardentry" not in sql:
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plans[name].append("\n".join(row[0] for row in cursor.fetchall()))
    return {
        "scores": n_scores,
        "players": players,
        "board_rows": rows,
        "load_s": round(load_s, 1),
        "rebuild_s": round(rebuild_s, 1),
        "timings": timings,
        "plans": plans,
    }


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="keep existing bench databases")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plans", action="store_true", help="print every EXPLAIN plan")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.requests, args.reuse)))
        return

    results = {}
    for size in (args.small, args.large):
        ensure_database(f"games_bench_{size}", args.reuse)
        command = [sys.executable, __file__, "--child", str(size), "--requests", str(args.requests)]
        if args.reuse:
            command.append("--reuse")
        out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            sys.exit(f"bench child for {size} failed:\n{out.stderr[-3000:]}")
        results[size] = json.loads(out.stdout.strip().splitlines()[-1])
    small, large = results[args.small], results[args.large]
    print(
        f"scores: {small['scores']:,} vs {large['scores']:,}; players {small['players']:,} vs "
        f"{large['players']:,}; board rows {small['board_rows']:,} vs {large['board_rows']:,}"
    )
    print(f"load {large['load_s']} s, rebuild_leaderboards {large['rebuild_s']} s (large)")
    print(
        f"{'request':<12} {'p50 small':>10} {'p50 large':>10} {'ratio':>6} "
        f"{'p95 small':>10} {'p95 large':>10} {'ratio':>6}"
    )
    for name in small["timings"]:
        a, b = small["timings"][name], large["timings"][name]
        print(
            f"{name:<12} {a['p50_ms']:>8.2f}ms {b['p50_ms']:>8.2f}ms "
            f"{b['p50_ms'] / a['p50_ms']:>5.2f}x {a['p95_ms']:>8.2f}ms {b['p95_ms']:>8.2f}ms "
            f"{b['p95_ms'] / a['p95_ms']:>5.2f}x"
        )
    for name, plans in large["plans"].items():
        for plan in plans:
            lines = plan.splitlines()
            scans = [line.strip() for line in lines if "Scan" in line]
            print(f"{name} (large): {' | '.join(scans)} | {lines[-1].strip()}")
            if args.plans:
                print(plan)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "games_leaderboard.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
