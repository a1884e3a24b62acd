"""Client frame times in autoplay headless while the server takes 2 s per request.

    .venv/bin/python bench/games_client_frames.py [--duration 10] [--delay 2]

Runs the real client (``python -m games.client --autoplay --headless --frame-stats``) twice,
side by side: against a stub server that answers every request at once, and against one that
sleeps ``--delay`` seconds before each answer (sign-in, score, leaderboard, me). The stub speaks
just enough of the API's JSON for the client. Reported per frame: the work time (events, game
ticks, drawing; the 60 FPS cap's sleep excluded) and the interval between frame starts. Goal:
p99 <= 16.7 ms with the slow server, i.e. the network never stalls the loop.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stub_server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict) -> None:
            time.sleep(delay)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.startswith("/api/v1/auth/token/"):
                self._answer(200, {"token": "bench-token"})
            elif self.path.startswith("/api/v1/rounds/"):
                self._answer(201, {"round_id": "bench", "seed": 7, "tick_rate": 120, **body})
            else:
                # The client keeps a score queued unless the answer is its stored copy.
                self._answer(201, {"id": 1, "verified": True, **body})

        def do_GET(self) -> None:
            if "/me/" in self.path:
                self._answer(200, {"rank": 1, "points": 100, "neighbours": []})
            else:
                self._answer(200, {"results": []})

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_client(delay: float, duration: int) -> dict:
    server = stub_server(delay)
    with tempfile.TemporaryDirectory() as config:
        stats = Path(config) / "frames.json"
        env = {**os.environ, "XDG_CONFIG_HOME": config, "SDL_VIDEODRIVER": "dummy"}
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "games.client",
                "--autoplay",
                "--headless",
                "--user",
                "bench",
                "--duration",
                str(duration),
                "--seed",
                "1",
                "--server",
                f"http://127.0.0.1:{server.server_address[1]}",
                "--frame-stats",
                str(stats),
            ],
            input="bench password\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=duration + 120,
            check=False,
        )
        elapsed = time.perf_counter() - started
        server.shutdown()
        if done.returncode != 0:
            sys.exit(f"client failed ({done.returncode}): {done.stdout}{done.stderr}")
        frames = json.loads(stats.read_text())
    return {"elapsed_s": elapsed, **frames}


def summary(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (
        statistics.median(ordered),
        ordered[max(int(len(ordered) * 0.99) - 1, 0)],
        ordered[-1],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="round length, seconds")
    parser.add_argument("--delay", type=float, default=2.0, help="slow server delay, seconds")
    args = parser.parse_args()
    fast = run_client(0.0, args.duration)
    slow = run_client(args.delay, args.duration)
    print(
        f"round {args.duration} s, {len(slow['work_ms'])} frames (slow) vs "
        f"{len(fast['work_ms'])} (fast); whole run {slow['elapsed_s']:.1f} s vs "
        f"{fast['elapsed_s']:.1f} s"
    )
    print(f"{'':<22} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label, run in (("instant server", fast), (f"{args.delay:g} s server", slow)):
        for kind in ("work_ms", "interval_ms"):
            p50, p99, worst = summary(run[kind])
            print(f"{label + ' ' + kind[:-3]:<22} {p50:>8.2f} {p99:>8.2f} {worst:>8.2f}")


if __name__ == "__main__":
    main()
