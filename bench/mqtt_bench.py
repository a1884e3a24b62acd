"""MQTT ingest throughput: one ``manage.py ingest_mqtt`` worker next to ``mosquitto_sub``.

    .venv/bin/python bench/mqtt_bench.py                       # both cases, 3 rounds each
    .venv/bin/python bench/mqtt_bench.py --messages 50000 --lists 200 --rounds 1

Two streams, each published by ``mosquitto_pub -l -q 1`` (C, MQTT v5, 1000 in flight) from
files prepared beforehand (40,000 lines each, see ``publish``), to a private Mosquitto
started for the run on a free port:

1. one-reading messages ``{"timestamp", "value"}`` (default 100,000 of them);
2. 1,000-reading messages (default 300 of them, 300,000 readings).

Each stream is received twice, one after the other: by ``mosquitto_sub -q 1`` writing to
/dev/null (the broker's and publisher's own ceiling on this machine), then by one worker storing
into PostgreSQL (its own database ``mqtt_bench``, re-created each run). The clock runs from the
publisher's start to the last message received (mosquitto_sub exits) or committed and
acknowledged (the worker's last batch). The worker's CPU seconds (both its threads) are read
from /proc, so capacity per CPU-second is reported too: on a shared machine the wall-clock rate
depends on what else runs. Results also go to ``bench/results/mqtt.json``.

The broker gets ``max_queued_messages 0`` (no queue limit) and ``max_inflight_messages 1000``:
with Mosquitto's defaults (1000 queued, 20 in flight) a subscriber that falls behind a burst has
messages dropped by the broker, which would make any receiver look fast.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from needs import require

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PG = "host=127.0.0.1 port=5432 user=postgres"
DB = "mqtt_bench"
PREFIX = "bench/targets"
SENSOR = "BENCH"
CHUNK = 40_000
STORED = re.compile(r"^Stored (\d+) new readings from (\d+) messages")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Broker:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        config = directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_inflight_messages 1000\n"
        )
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False

        wait_until(listening, 10, "mosquitto to listen")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def write_streams(directory: Path, messages: int, lists: int) -> tuple[list[Path], list[Path]]:
    """One line per message: ``messages`` single readings, and ``lists`` 1,000-reading lists,
    each stream in files of at most ``CHUNK`` lines (see ``publish``)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def stamp(n: int) -> str:
        return (start + timedelta(milliseconds=n)).isoformat().replace("+00:00", "Z")

    def chunks(name: str, lines) -> list[Path]:
        paths: list[Path] = []
        for n, line in enumerate(lines):
            if n % CHUNK == 0:
                paths.append(directory / f"{name}-{len(paths)}.txt")
                out = paths[-1].open("w")
            out.write(line)
            if n % CHUNK == CHUNK - 1:
                out.close()
        out.close()
        return paths

    singles = chunks(
        "singles",
        (f'{{"timestamp":"{stamp(n)}","value":{n % 1000 / 10}}}\n' for n in range(messages)),
    )
    batches = chunks(
        "lists",
        (
            "["
            + ",".join(
                f'{{"timestamp":"{stamp(m * 1000 + i)}","value":{i / 10}}}' for i in range(1000)
            )
            + "]\n"
            for m in range(lists)
        ),
    )
    return singles, batches


def publish(port: int, stream: list[Path]) -> None:
    """``mosquitto_pub -l`` for each file of the stream in turn.

    One process publishes at most ``CHUNK`` messages: ``-l`` queues every line it reads at once,
    and with more than 65,535 queued its packet ids wrap onto messages still waiting, which it
    then loses (seen with 100,000 lines: a third arrived).
    """
    for path in stream:
        with path.open("rb") as lines:
            subprocess.run(
                [
                    "mosquitto_pub",
                    "-p",
                    str(port),
                    "-V",
                    "mqttv5",
                    "-q",
                    "1",
                    "-M",
                    "1000",
                    "-t",
                    f"{PREFIX}/readings/{SENSOR}",
                    "-l",
                ],
                stdin=lines,
                check=True,
            )


def end_session(port: int, client_id: str) -> None:
    """Clean start, no expiry: the broker forgets the session, or it would queue (and later
    deliver) the other receiver's stream too."""
    topic = f"{PREFIX}/readings/+"
    subprocess.run(
        ["mosquitto_sub", "-p", str(port), "-V", "mqttv5", "-i", client_id, "-t", topic, "-E"],
        check=True,
        timeout=60,
        stdout=subprocess.DEVNULL,
    )


def run_mosquitto_sub(port: int, stream: list[Path], count: int) -> dict:
    session = ["-p", str(port), "-V", "mqttv5", "-q", "1", "-c", "-x", "600", "-i", "bench-sub"]
    topic = ["-t", f"{PREFIX}/readings/+"]
    # A persistent session, subscribed before the clock starts (-E: exit once subscribed), so
    # nothing published before the receiving mosquitto_sub is up can be missed.
    subprocess.run(["mosquitto_sub", *session, *topic, "-E"], check=True, timeout=60)
    sub = subprocess.Popen(
        ["mosquitto_sub", *session, *topic, "-C", str(count)], stdout=subprocess.DEVNULL
    )
    try:
        started = time.perf_counter()
        publish(port, stream)
        published = time.perf_counter() - started
        sub.wait(timeout=600)
        seconds = time.perf_counter() - started
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
        end_session(port, "bench-sub")
    return {"seconds": seconds, "publisher_seconds": published}


def database_reset() -> None:
    with psycopg.connect(f"{PG} dbname={DB}", autocommit=True) as conn:
        conn.execute("TRUNCATE sensors_reading, sensors_readingmark")


def stored_count() -> int:
    with psycopg.connect(f"{PG} dbname={DB}") as conn:
        return conn.execute("SELECT count(*) FROM sensors_reading").fetchone()[0]


def run_worker(
    env: dict[str, str], port: int, stream: list[Path], messages: int, readings: int
) -> dict:
    database_reset()
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "ingest_mqtt", "-v", "2"],
        cwd=ROOT,
        env={**env, "MQTT_URL": f"mqtt://127.0.0.1:{port}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    progress = {"messages": 0, "readings": 0, "subscribed": False, "done": threading.Event()}
    lines: list[str] = []

    def read() -> None:
        for line in worker.stdout:
            lines.append(line)
            if "subscribed to" in line:
                progress["subscribed"] = True
            match = STORED.match(line)
            if match:
                progress["readings"] += int(match.group(1))
                progress["messages"] += int(match.group(2))
                if progress["messages"] >= messages:
                    progress["done"].set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: progress["subscribed"], 60, "the worker to subscribe")
        cpu_before = cpu_seconds(worker.pid)
        started = time.perf_counter()
        publish(port, stream)
        published = time.perf_counter() - started
        if not progress["done"].wait(600):
            raise RuntimeError("the worker did not finish:\n" + "".join(lines[-20:]))
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(worker.pid) - cpu_before
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        end_session(port, env["MQTT_CLIENT_ID"])
    count = stored_count()
    if count != readings:
        raise RuntimeError(f"stored {count} readings, expected {readings}")
    return {"seconds": seconds, "publisher_seconds": published, "worker_cpu_seconds": cpu}


def prepare_database() -> dict[str, str]:
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "DJANGO_SECRET_KEY": "bench-only-" + "m" * 50,
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_LEVEL": "info",
        "PYTHONUNBUFFERED": "1",
        "MQTT_CLIENT_ID": "bench-worker",
        "MQTT_TOPIC_PREFIX": PREFIX,
    }
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = f"from sensors.models import Sensor; Sensor.objects.get_or_create(code={SENSOR!r})"
    subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)
    return env


def main() -> None:
    require(tools=("mosquitto_pub", "mosquitto_sub"), services=("postgres", "mqtt"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="one-reading messages")
    parser.add_argument("--lists", type=int, default=300, help="1,000-reading messages")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("mosquitto_pub", "mosquitto_sub"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install mosquitto-clients")

    env = prepare_database()
    with tempfile.TemporaryDirectory(prefix="mqtt-bench-") as tmp:
        directory = Path(tmp)
        singles, lists = write_streams(directory, args.messages, args.lists)
        broker = Broker(directory)
        results: dict[str, dict] = {}
        try:
            cases = [
                ("one-reading messages", singles, args.messages, args.messages),
                ("1,000-reading messages", lists, args.lists, args.lists * 1000),
            ]
            for name, stream, messages, readings in cases:
                subs, workers = [], []
                for _ in range(args.rounds):  # alternate, so both see the same machine load
                    subs.append(run_mosquitto_sub(broker.port, stream, messages))
                    workers.append(run_worker(env, broker.port, stream, messages, readings))
                sub_s = statistics.median(r["seconds"] for r in subs)
                worker_s = statistics.median(r["seconds"] for r in workers)
                cpu = statistics.median(r["worker_cpu_seconds"] for r in workers)
                results[name] = {
                    "messages": messages,
                    "readings": readings,
                    "mosquitto_sub": subs,
                    "worker": workers,
                    "mosquitto_sub_messages_per_s": messages / sub_s,
                    "worker_messages_per_s": messages / worker_s,
                    "worker_readings_per_s": readings / worker_s,
                    "worker_readings_per_cpu_s": readings / cpu,
                    "ratio_worker_to_mosquitto_sub": (messages / worker_s) / (messages / sub_s),
                }
                print(
                    f"{name}: mosquitto_sub {messages / sub_s:,.0f} msg/s; worker "
                    f"{messages / worker_s:,.0f} msg/s = {readings / worker_s:,.0f} readings/s "
                    f"({(messages / worker_s) / (messages / sub_s):.2f}x mosquitto_sub), "
                    f"{readings / cpu:,.0f} readings per worker CPU-second "
                    f"(medians of {args.rounds}; load average {os.getloadavg()[0]:.1f})"
                )
        finally:
            broker.stop()
    results["load_average_at_end"] = os.getloadavg()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "mqtt.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
