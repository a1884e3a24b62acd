"""Webhook delivery throughput: two ``deliver_notifications`` workers draining the outbox.

    .venv/bin/python bench/notifications_bench.py                  # 10,000 deliveries, 3 rounds
    .venv/bin/python bench/notifications_bench.py --rows 2000 --rounds 1 --database my_bench

A webhook receiver runs in its own process on a free loopback port (HTTP/1.1 keep-alive, one
thread per connection); it checks every request's ``X-Targets-Signature`` and counts delivery
ids. Each round, side by side on the same machine:

1. **ceiling**: two plain client processes POST the same number of signed bodies of the same size
   with urllib3 (keep-alive, no database): what this receiver and this machine allow at all;
2. **workers**: ``--rows`` pending webhook notifications in PostgreSQL (its own database, default
   ``notifications_bench``, dropped and re-created), two ``manage.py deliver_notifications --loop``
   processes started first and idle, then every row is made due at once; the clock runs until the
   receiver has seen every delivery id and every row is ``sent``.

The rate is deliveries per second; the ratio is workers / ceiling. The goal is >= 500/s. Results
also go to ``bench/results/notifications.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from needs import require

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PG = "host=127.0.0.1 port=5432 user=postgres"
SECRET = "bench-signing-secret-0123456789"

RECEIVER = r"""
import hashlib, hmac, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
secret = sys.argv[1].encode()
seen, lock, state = set(), threading.Lock(), {"requests": 0, "bad": 0}
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(good, self.headers.get("X-Targets-Signature", ""))
        with lock:
            state["requests"] += 1
            if ok:
                seen.add(self.headers["X-Targets-Delivery"])
            else:
                state["bad"] += 1
        self.send_response(204 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        with lock:
            if self.path == "/reset":
                seen.clear(); state.update(requests=0, bad=0)
            body = json.dumps({"unique": len(seen), **state}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""

CLIENT = r"""
import hashlib, hmac, sys, time, uuid, urllib3
url, secret, count, size = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4])
http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=10))
for n in range(count):
    body = (b'{"event":"alert.opened","n":%d,"pad":"' % n).ljust(size - 2, b"x") + b'"}'
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Targets-Event": "alert.opened",
               "X-Targets-Delivery": str(uuid.uuid4()), "X-Targets-Signature": "sha256=" + digest}
    response = http.request("POST", url, body=body, headers=headers)
    assert response.status == 204, response.status
"""


def stats(port: int, path: str = "/stats") -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def prepare_database(name: str) -> dict[str, str]:
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "DJANGO_SECRET_KEY": "bench-only-" + "n" * 50,
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env


def insert_rows(name: str, url: str, rows: int) -> int:
    """One webhook channel and ``rows`` pending notifications, not yet due; returns body size."""
    payload = {
        "sensor": {
            "code": "A",
            "name": "Boiler",
            "unit": "°C",
            "low_threshold": None,
            "high_threshold": 65.0,
        },
        "alert": {
            "id": 1,
            "kind": "high",
            "opened_at": "2026-11-30T05:00:00+00:00",
            "closed_at": None,
            "peak_value": 70.5,
            "reading_count": 3,
            "acknowledged_at": None,
        },
    }
    text = json.dumps(payload)
    with psycopg.connect(f"{PG} dbname={name}", autocommit=True) as conn:
        conn.execute(
            "TRUNCATE notifications_notification, notifications_notificationchannel CASCADE"
        )
        channel = conn.execute(
            "INSERT INTO notifications_notificationchannel (name, kind, target, secret, sensors, "
            "events, repeat_every, is_active, created_at, updated_at) VALUES ('bench', 'webhook', "
            "%s, %s, '[]', '[\"alert.opened\"]', 0, true, now(), now()) RETURNING id",
            (url, SECRET),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO notifications_notification (channel_id, event, source, subject, payload, "
            "delivery_id, status, attempts, next_attempt_at, last_error, created_at, updated_at) "
            "SELECT %s, 'alert.opened', 'alert:1', 'Sensor A: high alert opened', %s::jsonb, "
            "gen_random_uuid(), 'pending', 0, now() + interval '1 day', '', now(), now() "
            "FROM generate_series(1, %s)",
            (channel, text, rows),
        )
    body = json.dumps(
        {"event": "alert.opened", "sent_at": datetime.now(UTC).isoformat(), **payload}
    )
    return len(body.encode())


def run_ceiling(url: str, port: int, rows: int, size: int) -> float:
    stats(port, "/reset")
    started = time.perf_counter()
    clients = [
        subprocess.Popen([PYTHON, "-c", CLIENT, url, SECRET, str(rows // 2), str(size)])
        for _ in range(2)
    ]
    for client in clients:
        if client.wait(timeout=600) != 0:
            raise RuntimeError("a ceiling client failed")
    seconds = time.perf_counter() - started
    got = stats(port)
    if got["unique"] != rows // 2 * 2 or got["bad"]:
        raise RuntimeError(f"ceiling: receiver saw {got}")
    return seconds


def run_workers(
    env: dict[str, str], name: str, url: str, port: int, rows: int, batch: int
) -> float:
    insert_rows(name, url, rows)
    stats(port, "/reset")
    workers = [
        subprocess.Popen(
            [
                PYTHON,
                "manage.py",
                "deliver_notifications",
                "--loop",
                "--interval",
                "0.05",
                "--batch",
                str(batch),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        time.sleep(4)  # both workers started, polling an outbox with nothing due
        for worker in workers:
            if worker.poll() is not None:
                raise RuntimeError("a worker exited early:\n" + worker.stdout.read())
        with psycopg.connect(f"{PG} dbname={name}", autocommit=True) as conn:
            started = time.perf_counter()
            conn.execute("UPDATE notifications_notification SET next_attempt_at = now()")
            wait_for(lambda: stats(port)["unique"] >= rows, 600, "every delivery")

            def all_sent() -> bool:
                return (
                    conn.execute(
                        "SELECT count(*) FROM notifications_notification WHERE status = 'sent'"
                    ).fetchone()[0]
                    == rows
                )

            wait_for(all_sent, 60, "every row recorded as sent")
            seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    got = stats(port)
    if got["bad"] or got["unique"] != rows:
        raise RuntimeError(f"workers: receiver saw {got}")
    # Two workers, one row each: every request a new delivery id (none sent twice).
    if got["requests"] != rows:
        raise RuntimeError(f"{got['requests'] - rows} deliveries were sent twice")
    return seconds


def main() -> None:
    require(services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=50, help="deliver_notifications --batch")
    parser.add_argument("--database", default="notifications_bench")
    args = parser.parse_args()

    env = prepare_database(args.database)
    receiver = subprocess.Popen([PYTHON, "-c", RECEIVER, SECRET], stdout=subprocess.PIPE, text=True)
    port = int(receiver.stdout.readline())
    url = f"http://127.0.0.1:{port}/hook"
    results: dict[str, object] = {"rows": args.rows, "batch": args.batch}
    try:
        size = insert_rows(args.database, url, 1)
        ceilings, drains = [], []
        for _ in range(args.rounds):  # alternate, so both see the same machine load
            ceilings.append(run_ceiling(url, port, args.rows, size))
            drains.append(run_workers(env, args.database, url, port, args.rows, args.batch))
        ceiling = args.rows / statistics.median(ceilings)
        workers = args.rows / statistics.median(drains)
        results.update(
            body_bytes=size,
            ceiling_seconds=ceilings,
            workers_seconds=drains,
            ceiling_per_s=ceiling,
            workers_per_s=workers,
            ratio_workers_to_ceiling=workers / ceiling,
            load_average_at_end=os.getloadavg(),
        )
        print(
            f"{args.rows:,} webhook deliveries ({size} B bodies): two deliver_notifications "
            f"workers {workers:,.0f}/s; two plain urllib3 clients {ceiling:,.0f}/s "
            f"({workers / ceiling:.2f}x); medians of {args.rounds}, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "notifications.json").write_text(json.dumps(results, indent=2))
    if results.get("workers_per_s", 0) < 500:
        sys.exit("below the 500 deliveries/s goal")


if __name__ == "__main__":
    main()
