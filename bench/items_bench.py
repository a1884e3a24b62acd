#!/usr/bin/env python
"""Load the DRF item list against a baseline, side by side, on gunicorn + PostgreSQL.

    .venv/bin/python bench/items_bench.py [--items 10000] [--duration 10] [--rounds 3]
    .venv/bin/python bench/items_bench.py --compare metrics   # /metrics instrumentation on vs off
    .venv/bin/python bench/items_bench.py --compare auth      # API key vs DRF token

``--compare bare`` (default): the DRF list against a bare Django view on the same server.
``--compare metrics``: the DRF list on two servers at once, one with ``METRICS_ENABLED=1`` (the
default: the latency histogram, multiprocess files) and one with ``METRICS_ENABLED=0``; goal:
metrics on >= 0.95x of off.
``--compare auth``: the DRF list on one server, authenticated by an API key (``Bearer``) and by a
DRF token, alternating; goal: key >= 0.95x of token.

Serves the site with gunicorn (gunicorn.conf.py, 2 workers, debug off, plain HTTP, throttle rates
raised out of the way) on the PostgreSQL database ``bench_items`` holding exactly ``--items``
items, then runs ``wrk`` against ``GET /api/v1/items/?page_size=50`` and the bare view
(``bench/items_bare_urls.py``) in alternating rounds, and prints requests/s, latency and the
ratio. Needs ``wrk`` (``apt-get install wrk``) and PostgreSQL on 127.0.0.1:5432 (user postgres).
Not a test: figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import requests
from needs import require

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "bench_items"
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PATHS = {
    "drf": "/api/v1/items/?page_size=50",
    "bare": "/bench/bare-items/",
}

SEED = """
from decimal import Decimal
from django.db import transaction
from items.models import Item
wanted = {items}
if Item.objects.count() != wanted or Item.objects.exclude(sku__startswith="BENCH-").exists():
    with transaction.atomic():
        Item.objects.all().delete()
        Item.objects.bulk_create(
            (
                Item(
                    sku=f"BENCH-{{n:06d}}",
                    name=f"Bench item {{n}}",
                    description="A catalogue entry of ordinary length for the benchmark.",
                    price=Decimal(n % 100_000) / 100,
                    stock_quantity=n % 250,
                    is_active=n % 10 != 0,
                )
                for n in range(1, wanted + 1)
            ),
            batch_size=2000,
        )
print(Item.objects.count())
"""


def site_env(port: int, *, metrics: bool = True) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "API_", "REDIS_", "EXPORTS_", "GUNICORN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.items_settings",
        PYTHONPATH=str(BASE_DIR),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_LOG_LEVEL="warning",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        API_THROTTLE_RATES="anon=100000/s,user=100000/s,key=100000/s",
        GUNICORN_WORKERS="2",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        METRICS_ENABLED="1" if metrics else "0",
    )
    return env


def prepare_database(env: dict[str, str], items: int) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {DATABASE}")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED.format(items=items)],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    count = int(seeded.stdout.strip().splitlines()[-1])
    assert count == items, count
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DATABASE}", autocommit=True) as c:
        c.execute("VACUUM ANALYZE items_item")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], log: Path) -> subprocess.Popen:
    # --max-requests 0: measure steady state, not gunicorn.conf.py's periodic worker recycling.
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--max-requests",
        "0",
        "targets_site.wsgi",
    ]
    with log.open("w") as out:
        return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=out)


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited during start-up; see its log")
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def check_same_page(base: str) -> None:
    drf = requests.get(base + PATHS["drf"], timeout=10).json()
    bare = requests.get(base + PATHS["bare"], timeout=10).json()
    assert drf["count"] == bare["count"], (drf["count"], bare["count"])
    assert drf["results"] == bare["results"], "the two views must return the same rows"
    assert len(drf["results"]) == 50


def workers_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU of the gunicorn workers: load from other processes does not inflate it."""
    total = 0.0
    for worker in psutil.Process(server.pid).children():
        times = worker.cpu_times()
        total += times.user + times.system
    return total


CREDENTIALS = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from accounts.models import ApiKey
from accounts.services import apikey_create
user, _ = get_user_model().objects.get_or_create(username="bench-auth")
ApiKey.objects.filter(owner=user).delete()
print(Token.objects.get_or_create(user=user)[0].key)
print(apikey_create(owner=user, name="bench", scopes=["items:write"]).key)
"""


def credentials(env: dict[str, str]) -> tuple[str, str]:
    """A DRF token and an API key of the same user, made in the bench database."""
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", CREDENTIALS],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token, key = made.stdout.strip().splitlines()[-2:]
    return token, key


def run_wrk(
    url: str, *, duration: int, connections: int, threads: int, header: str | None = None
) -> dict[str, float]:
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            *(["-H", header] if header else []),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    text = result.stdout
    if "Non-2xx" in text or "Socket errors" in text:
        sys.exit(f"wrk saw errors against {url}:\n{text}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    # wrk pads a one-letter unit with a trailing space ("1.02s "): allow it, or p99 >= 1 s (a
    # loaded machine) was not found and the run ended in KeyError: '99'.
    latency = {
        pct: _ms(value)
        for pct, value in re.findall(r"^[ \t]*(50|99)%[ \t]+([\d.]+[a-z]+)[ \t]*$", text, re.M)
    }
    if set(latency) != {"50", "99"}:
        sys.exit(f"could not read wrk's latency distribution:\n{text}")
    requests_done = int(re.search(r"(\d+) requests in", text).group(1))
    return {
        "rps": rps,
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "requests": requests_done,
    }


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def measure(targets, *, duration: int, rounds: int, connections: int, threads: int):
    """Run every target once per round, alternating the order; return per-target figures."""
    for target in targets:  # warm every path in every worker
        run_wrk(target["url"], duration=2, connections=4, threads=1, header=target.get("header"))
    runs: dict[str, list[dict[str, float]]] = {target["name"]: [] for target in targets}
    for round_number in range(rounds):
        order = targets if round_number % 2 == 0 else list(reversed(targets))
        for target in order:
            cpu_before = workers_cpu_seconds(target["server"])
            figures = run_wrk(
                target["url"],
                duration=duration,
                connections=connections,
                threads=threads,
                header=target.get("header"),
            )
            cpu = workers_cpu_seconds(target["server"]) - cpu_before
            figures["cpu_ms"] = cpu * 1000 / figures["requests"]
            runs[target["name"]].append(figures)
            print(
                f"round {round_number + 1} {target['name']:11} {figures['rps']:8.1f} req/s "
                f"p50 {figures['p50_ms']:6.2f} ms p99 {figures['p99_ms']:6.2f} ms "
                f"worker CPU {figures['cpu_ms']:5.2f} ms/request",
                flush=True,
            )
    return runs


def report(targets, runs, *, rounds: int, goal: float) -> None:
    first, second = (target["name"] for target in targets)
    median = {
        name: {key: statistics.median(run[key] for run in results) for key in results[0]}
        for name, results in runs.items()
    }
    # Each round runs both back to back, so a per-round ratio cancels most of the drift in
    # machine load between rounds.
    round_ratios = sorted(
        a["rps"] / b["rps"] for a, b in zip(runs[first], runs[second], strict=True)
    )
    cpu_ratio = median[second]["cpu_ms"] / median[first]["cpu_ms"]
    print()
    print(f"| run | path | req/s (median of {rounds}) | p50 ms | p99 ms | worker CPU ms/request |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for target in targets:
        m = median[target["name"]]
        print(
            f"| {target['name']} | `{target['path']}` | {m['rps']:.0f} | {m['p50_ms']:.2f} "
            f"| {m['p99_ms']:.2f} | {m['cpu_ms']:.2f} |"
        )
    print(
        f"\n{first} / {second} req/s: {median[first]['rps'] / median[second]['rps']:.2f}x of the "
        f"medians; per round {', '.join(f'{r:.2f}' for r in round_ratios)} "
        f"(median {statistics.median(round_ratios):.2f}x); goal >= {goal:.2f}x"
    )
    print(
        f"{first} / {second} by worker CPU per request ({second} ms / {first} ms): {cpu_ratio:.2f}x"
    )


def main() -> None:
    require(tools=("wrk",), services=("postgres",))
    global DATABASE  # the helpers above read it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare", choices=["bare", "metrics", "auth"], default="bare")
    parser.add_argument(
        "--database", default=DATABASE, help="PostgreSQL database to (re)fill with the items"
    )
    args = parser.parse_args()
    DATABASE = args.database

    port = free_port()
    env = site_env(port)
    print(f"preparing {DATABASE} with {args.items} items ...", flush=True)
    prepare_database(env, args.items)
    servers: list[subprocess.Popen] = []
    try:
        server = start_gunicorn(env, Path("/tmp") / f"items_bench_gunicorn_{port}.log")
        servers.append(server)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server)
        if args.compare == "bare":
            check_same_page(base)
            targets = [
                {"name": "drf", "path": PATHS["drf"], "url": base + PATHS["drf"], "server": server},
                {
                    "name": "bare",
                    "path": PATHS["bare"],
                    "url": base + PATHS["bare"],
                    "server": server,
                },
            ]
            goal = 0.70
        elif args.compare == "auth":
            token, key = credentials(env)
            url = base + PATHS["drf"]
            for header in (f"Authorization: Token {token}", f"Authorization: Bearer {key}"):
                name, value = header.split(": ", 1)
                answer = requests.get(url, headers={name: value}, timeout=10)
                assert answer.status_code == 200, (header.split()[1], answer.status_code)
            targets = [
                {
                    "name": "api-key",
                    "path": PATHS["drf"],
                    "url": url,
                    "server": server,
                    "header": f"Authorization: Bearer {key}",
                },
                {
                    "name": "drf-token",
                    "path": PATHS["drf"],
                    "url": url,
                    "server": server,
                    "header": f"Authorization: Token {token}",
                },
            ]
            goal = 0.95
        else:
            off_port = free_port()
            off = start_gunicorn(
                site_env(off_port, metrics=False),
                Path("/tmp") / f"items_bench_gunicorn_{off_port}.log",
            )
            servers.append(off)
            off_base = f"http://127.0.0.1:{off_port}"
            wait_until_up(off_base, off)
            assert requests.get(f"{base}/metrics", timeout=10).status_code == 200
            assert requests.get(f"{off_base}/metrics", timeout=10).status_code == 404
            targets = [
                {
                    "name": "metrics-on",
                    "path": PATHS["drf"],
                    "url": base + PATHS["drf"],
                    "server": server,
                },
                {
                    "name": "metrics-off",
                    "path": PATHS["drf"],
                    "url": off_base + PATHS["drf"],
                    "server": off,
                },
            ]
            goal = 0.95
        runs = measure(
            targets,
            duration=args.duration,
            rounds=args.rounds,
            connections=args.connections,
            threads=args.threads,
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    report(targets, runs, rounds=args.rounds, goal=goal)


if __name__ == "__main__":
    main()
