#!/usr/bin/env python
"""Slow clients against gunicorn alone and against nginx in front of it, side by side.

    .venv/bin/python bench/slow_clients_bench.py [--slow 50] [--requests 20]

Starts one gunicorn (gunicorn.conf.py, 2 sync workers, debug off, a throw-away SQLite copy) and
the production nginx site (deploy/nginx/targets.conf, rendered for loopback the way
tests/deploy does), opens ``--slow`` connections that send one header line a second and never
finish, then times ``--requests`` ordinary ``GET /api/v1/items/`` on fresh connections, first
straight to gunicorn and then through nginx (each with its own set of slow clients). A request
that gets no answer within 10 s counts as a timeout. Needs Debian's nginx. Not a test.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from needs import require

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from tests.deploy.nginx import Nginx
from tests.faults.servers import Gunicorn, production_env, sqlite_site_copy

TIMEOUT = 10.0


def slow_client(port: int, stop: threading.Event) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /api/v1/items/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            while not stop.wait(1.0):
                sock.sendall(b"X-Slow: still here\r\n")
    except OSError:
        return  # dropped by the server: that is the point


def measure(base: str, port: int, *, slow: int, count: int) -> dict[str, float]:
    stop = threading.Event()
    threads = [
        threading.Thread(target=slow_client, args=(port, stop), daemon=True) for _ in range(slow)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    latencies, timeouts = [], 0
    try:
        for _ in range(count):
            started = time.perf_counter()
            try:
                response = requests.get(f"{base}/api/v1/items/", timeout=TIMEOUT)
                assert response.status_code == 200, response.status_code
                latencies.append(time.perf_counter() - started)
            except requests.Timeout:
                timeouts += 1
                latencies.append(TIMEOUT)
    finally:
        stop.set()
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000,
        "timeouts": timeouts,
    }


def main() -> None:
    require(tools=("nginx",))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="slow-clients-bench-"))
    database_url, _token = sqlite_site_copy(directory)
    env = production_env(
        DATABASE_URL=database_url,
        NUM_PROXIES="1",
        API_THROTTLE_RATES="anon=100000/min",
        PROMETHEUS_MULTIPROC_DIR=str(directory / "metrics"),
    )
    server = Gunicorn(env, workers=2, log=directory / "gunicorn.log").start()
    nginx = Nginx(upstream_ports=[server.port, server.port], prefix=directory / "nginx").start()
    try:
        for _ in range(4):  # warm both workers
            requests.get(f"{nginx.url}/api/v1/items/", timeout=30)
        direct = measure(server.url, server.port, slow=args.slow, count=args.requests)
        time.sleep(2)  # let gunicorn's workers shake off the direct round's slow clients
        proxied = measure(nginx.url, nginx.port, slow=args.slow, count=args.requests)
    finally:
        nginx.stop()
        server.stop()
    print(f"\n{args.slow} slow clients, {args.requests} ordinary requests each way:\n")
    print("| path | p50 ms | p99 ms | no answer within 10 s |")
    print("| --- | ---: | ---: | ---: |")
    for name, figures in (("gunicorn alone (2 workers)", direct), ("nginx in front", proxied)):
        print(
            f"| {name} | {figures['p50_ms']:.0f} | {figures['p99_ms']:.0f} "
            f"| {figures['timeouts']} of {args.requests} |"
        )


if __name__ == "__main__":
    main()
