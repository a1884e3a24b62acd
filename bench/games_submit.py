"""Server CPU of one score submission with its replay (goal: < 10 ms at the 900-shot maximum).

    .venv/bin/python bench/games_submit.py                # PostgreSQL (database bench_games_submit)
    .venv/bin/python bench/games_submit.py --sqlite       # a SQLite file in a temporary folder
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/games_submit.py   # throttles in Redis
    git worktree add --detach /tmp/before <commit>        # then, side by side with that checkout:
    .venv/bin/python bench/games_submit.py --baseline /tmp/before
    .venv/bin/python bench/games_submit.py --profile "moving 60 s max rate"   # cProfile, in process
    .venv/bin/python bench/games_submit.py --breakdown "moving 60 s max rate" # CPU by part

What is measured is what the goal names: the CPU the server spends on one ``POST /api/v1/scores/``.
The site runs under gunicorn (``gunicorn.conf.py``, one sync worker, debug off, the production
middleware, request log and metrics) on a free 127.0.0.1 port. Throttles still count, in Redis when
``REDIS_URL`` is set (as in production) or in the worker's memory, at rates per second so high
they never refuse (per second, so a throttle's history stays as short as a real player's).
This process issues each submission its own round (``games.services.round_issue``, dated a
round's length ago so it may be submitted now), encodes every body before the batch starts, then
reads the worker's user + system CPU from ``/proc/<pid>/stat`` before and after a batch of
submissions: the figure is that CPU divided by the batch's size, so neither the client's own work
nor other processes on a busy machine count. With PostgreSQL the database backend serving the
worker is read the same way ("db CPU", not in the goal's figure). Wall times are per request as
the client sees them (a fresh connection each: sync workers close it).

Cases, in alternating batches: a 60 s round played by the bundled bot (about 95 shots, verified)
and a 60 s round at the highest rate the rules allow (15 a second: 900 shots, consistent, sent to
review by the human-limits model), in both modes. ``--baseline DIR`` serves another checkout of
the project on a second server against the same database, measured in the same batches (which
server goes first alternates too), and prints the ratio current / baseline.

To explain the figure, the parts that grow with the shots are then timed apart in this process
(``time.process_time``, current code only): the JSON parser on the body, the submit serializer,
the idempotency digest, ``replay_rerun`` (the replay's checks and the server's re-run),
``human_limits_check`` and the stored shots. The rest of a request (token auth, throttles,
middleware, the ORM statements, the answer) is about what the bot round costs.
``--profile CASE`` runs that case's request through Django's test client in this process under
cProfile instead; ``--breakdown CASE`` gives its CPU by part (token auth, throttles, each
statement, the replay, the answer...) and two floors (a ``POST {}`` refused at once,
``GET /healthz``), the parts wrapped and timed by ``time.thread_time``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import http.client
import io
import json
import os
import pstats
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
from needs import require

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "bench_games_submit"
DURATION_S = 60
SEED = 7
PATH = "/api/v1/scores/"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The benchmark measures the submission path, not the rate limiter.
THROTTLE_RATES = ",".join(
    f"{scope}=1000000/s"
    for scope in ("anon", "user", "key", "login", "register", "scores", "readings")
)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from ``/proc/<pid>/stat`` (utime, stime)."""
    stat = Path(f"/proc/{pid}/stat").read_text()  # FileNotFoundError once the process is gone
    fields = stat.rsplit(")", 1)[1].split()
    # Fields 14 and 15 of the file; the split starts at field 3 (the state).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The database ---------------------------------------------------------------------------


def database_url(args: argparse.Namespace) -> str:
    if args.sqlite:
        return f"sqlite:///{tempfile.mkdtemp(prefix='games-submit-')}/bench.sqlite3"
    if args.database_url:
        return args.database_url
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        if not conn.execute(query, [DEFAULT_DATABASE]).fetchone():
            conn.execute(f"CREATE DATABASE {DEFAULT_DATABASE}")
    return f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DATABASE}"


def setup_django(url: str) -> None:
    """This process's Django, on the servers' database: migrations, the player, the rounds."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "targets_site.settings_test"
    os.environ["API_THROTTLE_RATES"] = THROTTLE_RATES
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def backend_pid(worker: int) -> int | None:
    """The PostgreSQL backend serving the worker's connection (None for SQLite or none open)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    ports = [
        conn.laddr.port
        for conn in psutil.Process(worker).net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == 5432
    ]
    if len(ports) != 1:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE client_port = %s", [ports[0]])
        row = cursor.fetchone()
    return row[0] if row else None


# --- The servers ----------------------------------------------------------------------------


@dataclass
class Server:
    """One gunicorn (one sync worker) serving a checkout of the project."""

    name: str
    code: Path
    url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    worker: int = 0

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "API_", "REDIS_", "GUNICORN_", "PROMETHEUS_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="targets_site.settings",
            PYTHONPATH=str(self.code),
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_SSL_REDIRECT="0",
            DJANGO_SECURE_HSTS_SECONDS="0",
            DJANGO_SECURE_COOKIES="0",
            DATABASE_URL=self.url,
            API_THROTTLE_RATES=THROTTLE_RATES,
            GUNICORN_WORKERS="1",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
        )
        if os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = os.environ["REDIS_URL"]
        return env

    def start(self, log: Path) -> None:
        # --max-requests 0: steady state, not gunicorn.conf.py's periodic worker recycling.
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        command += ["--max-requests", "0", "targets_site.wsgi"]
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=self.code, env=self.env(), stdout=out, stderr=out
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn ({self.name}) exited during start-up; see {log}")
            workers = psutil.Process(self.process.pid).children()
            if len(workers) == 1 and self.get("/healthz") == 200:
                self.worker = workers[0].pid
                return
            time.sleep(0.3)
        sys.exit(f"gunicorn ({self.name}) did not answer /healthz within 60 s; see {log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        except OSError:
            return 0
        finally:
            conn.close()

    def post(self, body: bytes, token: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
            conn.request("POST", PATH, body, headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@contextmanager
def running(servers: list[Server]) -> Iterator[None]:
    try:
        for server in servers:
            server.start(Path(tempfile.gettempdir()) / f"games_submit_{server.port}.log")
        yield
    finally:
        for server in servers:
            server.stop()


# --- The cases ------------------------------------------------------------------------------


def max_rate_body(mode: str, seed: int, duration_s: int) -> dict:
    """A 15-shots-a-second round aimed near the centre (900 shots in 60 s)."""
    from games import rules
    from games.client.app import score_payload

    ticks = rules.ticks_for(duration_s)
    game = rules.Round(mode, seed, rules.TICK_RATE, ticks)
    step = rules.TICK_RATE // rules.MAX_SHOTS_PER_SECOND
    for n, tick in enumerate(range(0, ticks, step)):
        x, y = game.motion.at(tick)
        game.shoot(x // rules.SCALE + n % 7 - 3, y // rules.SCALE + n % 5 - 2, tick)
    return score_payload(game, mode=mode, duration_s=duration_s)


def bot_body(mode: str, seed: int, duration_s: int) -> dict:
    from games import rules
    from games.client.app import score_payload

    return score_payload(rules.bot_round(mode, seed, duration_s), mode=mode, duration_s=duration_s)


@dataclass
class Case:
    name: str
    mode: str
    body: dict
    verdict: str  # what the server must answer: "verified" or "review"


def make_cases() -> list[Case]:
    from games import rules

    return [
        Case(f"{mode} 60 s {kind}", mode, make(mode, SEED, DURATION_S), verdict)
        for mode in rules.MODES
        for kind, make, verdict in (
            ("bot", bot_body, "verified"),
            ("max rate", max_rate_body, "review"),
        )
    ]


def encoded_bodies(case: Case, player, count: int) -> list[bytes]:
    """``count`` bodies of the case, each under a round of its own issued a round's length ago."""
    from games import services

    issued_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=DURATION_S + 5)
    bodies = []
    for _ in range(count):
        game_round = services.round_issue(
            player=player,
            mode=case.mode,
            duration_s=DURATION_S,
            now=issued_at,
            seed=case.body["replay"]["seed"],
        )
        one = {**case.body, "submission_id": str(uuid.uuid4()), "round_id": str(game_round.id)}
        bodies.append(json.dumps(one).encode())
    return bodies


def answer_verdict(body: bytes) -> str:
    score = json.loads(body)
    return "verified" if score["verified"] else score["review_status"]


# --- Measuring ------------------------------------------------------------------------------


@dataclass
class Samples:
    submissions: int = 0
    worker_cpu: float = 0.0
    db_cpu: float = 0.0
    db_submissions: int = 0
    wall_ms: list[float] = field(default_factory=list)

    def worker_ms(self) -> float:
        return self.worker_cpu * 1000 / self.submissions

    def db_ms(self) -> float | None:
        return self.db_cpu * 1000 / self.db_submissions if self.db_submissions else None


def measure_batch(server: Server, token: str, bodies: list[bytes], case: Case, into: Samples):
    backend = backend_pid(server.worker)
    db_before = process_cpu_seconds(backend) if backend else 0.0
    before = process_cpu_seconds(server.worker)
    for body in bodies:
        started = time.perf_counter()
        status, answer = server.post(body, token)
        into.wall_ms.append((time.perf_counter() - started) * 1000)
        if status != 201 or answer_verdict(answer) != case.verdict:
            sys.exit(f"{server.name} {case.name}: {status} {answer[:300]!r}")
    into.worker_cpu += process_cpu_seconds(server.worker) - before
    into.submissions += len(bodies)
    # A reconnect mid-batch (CONN_MAX_AGE) means another backend: that batch's db CPU is skipped.
    if backend and backend == backend_pid(server.worker):
        try:
            into.db_cpu += process_cpu_seconds(backend) - db_before
            into.db_submissions += len(bodies)
        except FileNotFoundError:
            pass


def run_batches(
    servers: list[Server], cases: list[Case], player, token: str, repeat: int, batch: int
) -> dict[tuple[str, str], Samples]:
    samples = {(s.name, c.name): Samples() for s in servers for c in cases}
    for server in servers:  # warm up: imports, the database connection, first-call caches
        for case in cases:
            measure_batch(server, token, encoded_bodies(case, player, 3), case, Samples())
    for number in range(max(repeat // batch, 1)):
        for case in cases if number % 2 == 0 else cases[::-1]:
            for server in servers if number % 2 == 0 else servers[::-1]:
                bodies = encoded_bodies(case, player, batch)
                measure_batch(server, token, bodies, case, samples[server.name, case.name])
    return samples


def cpu_ms(function: Callable[[], object], repeat: int = 30) -> float:
    """Median CPU time of a call, milliseconds."""
    function()
    times = []
    for _ in range(repeat):
        started = time.process_time()
        function()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def part_times(case: Case) -> dict[str, float]:
    """The submission's parts timed apart, in this process (current code)."""
    from games import human_limits, services
    from games.replay_columns import replay_rerun
    from games.serializers import ScoreSubmitSerializer
    from games.services.scores import MAX_STORED_SHOTS
    from targets_site.parsers import JSONParser

    body = json.dumps(case.body).encode()
    data = JSONParser().parse(io.BytesIO(body))
    replay = data["replay"]
    replayed = replay_rerun(replay, mode=case.mode, duration_s=DURATION_S)
    return {
        "parse": cpu_ms(lambda: JSONParser().parse(io.BytesIO(body))),
        "serializer": cpu_ms(lambda: ScoreSubmitSerializer(data=data).is_valid()),
        "digest": cpu_ms(lambda: services.submission_digest(data)),
        "replay rerun": cpu_ms(lambda: replay_rerun(replay, mode=case.mode, duration_s=DURATION_S)),
        "human_limits": cpu_ms(
            lambda: human_limits.human_limits_check(
                mode=case.mode,
                seed=replay["seed"],
                tick_rate=replay["tick_rate"],
                shots=replayed,
            )
        ),
        "stored shots": cpu_ms(lambda: replayed.details(MAX_STORED_SHOTS)),
    }


def profile(case: Case, player, token: str, count: int) -> None:
    """``count`` submissions of one case through Django's test client in this process, profiled."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    bodies = encoded_bodies(case, player, count + 5)
    for body in bodies[:5]:
        client.post(PATH, body, content_type="application/json")
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for body in bodies[5:]:
        response = client.post(PATH, body, content_type="application/json")
        assert response.status_code == 201, response.content
    profiler.disable()
    print(f"{case.name}: {(time.process_time() - started) * 1000 / count:.2f} ms CPU a request")
    print("(wall-clock profile: waits on the database show as psycopg wait)")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


# What --breakdown times apart: (module, attribute, label). Each part's own CPU, without the
# parts it calls; the collector's runs apart too.
REQUEST_PARTS = [
    ("rest_framework.authentication", "TokenAuthentication.authenticate", "token auth"),
    ("rest_framework.views", "APIView.check_throttles", "throttles (Redis with REDIS_URL)"),
    ("targets_site.parsers", "JSONParser.parse", "JSON parsing"),
    ("rest_framework.serializers", "BaseSerializer.is_valid", "submit serializer"),
    ("games.services", "submission_digest", "idempotency digest"),
    ("games.services.scores", "_existing_submission", "submission id lookup"),
    ("games.services.scores", "_replay_check", "replay rerun"),
    ("games.human_limits", "human_limits_check", "human limits"),
    ("games.services.scores", "_claim_round", "round lock + used check"),
    ("django.db.models", "Model.save", "score insert (ORM)"),
    ("games.services.scores", "leaderboard_offer", "board rows"),
    ("django.db.transaction", "Atomic.__enter__", "BEGIN"),
    ("django.db.transaction", "Atomic.__exit__", "COMMIT"),
    ("games.services", "score_submit", "rest of the service (stored shots...)"),
    ("rest_framework.serializers", "Serializer.data", "answer serializer"),
    ("games.views", "ScoreViewSet.create", "rest of the view"),
    ("rest_framework.views", "APIView.dispatch", "rest of DRF's dispatch"),
    ("django.core.handlers.base", "BaseHandler.get_response", "handler, middleware, render"),
]


def breakdown(case: Case, player, token: str, count: int) -> None:
    """CPU by part of ``count`` submissions of one case, in this process (Django's test client,
    the collector at the workers' threshold), and of two floors: a ``POST {}`` the serializer
    refuses, and ``GET /healthz``."""
    import gc
    import importlib

    from django.test import Client

    spent: dict[str, float] = {}
    running_parts: list[list] = []  # [label, started, children's CPU]

    def enter(label: str) -> None:
        running_parts.append([label, time.thread_time(), 0.0])

    def leave() -> None:
        label, started, children = running_parts.pop()
        elapsed = time.thread_time() - started
        spent[label] = spent.get(label, 0.0) + elapsed - children
        if running_parts:
            running_parts[-1][2] += elapsed

    def timed(function, label):
        def wrapper(*args, **kwargs):
            enter(label)
            try:
                return function(*args, **kwargs)
            finally:
                leave()

        return wrapper

    for module_name, attribute, label in REQUEST_PARTS:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for step in path:
            owner = getattr(owner, step)
        original = owner.__dict__[name] if path else getattr(owner, name)
        if isinstance(original, property):
            setattr(owner, name, property(timed(original.fget, label)))
        else:
            setattr(owner, name, timed(original, label))
    gc.set_threshold(50_000, 20, 20)  # as gunicorn.conf.py sets it in the workers
    gc.callbacks.append(
        lambda phase, _: enter("garbage collector") if phase == "start" else leave()
    )

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    bodies = encoded_bodies(case, player, count + 10)
    for body in bodies[:10]:
        client.post(PATH, body, content_type="application/json")
    spent.clear()
    started = time.thread_time()
    for body in bodies[10:]:
        response = client.post(PATH, body, content_type="application/json")
        assert response.status_code == 201, response.content
    total = (time.thread_time() - started) * 1000 / count
    print(f"{case.name}: {total:.2f} ms CPU a request in process; by part (ms a request):")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {seconds * 1000 / count:6.2f}  {label}")
    print(f"  {total - sum(spent.values()) * 1000 / count:6.2f}  the test client itself")
    for label, send in (
        ("POST {} (a 400)", lambda: client.post(PATH, b"{}", content_type="application/json")),
        ("GET /healthz", lambda: client.get("/healthz")),
    ):
        send()
        started = time.thread_time()
        for _ in range(count):
            send()
        print(f"floor, {label}: {(time.thread_time() - started) * 1000 / count:.2f} ms CPU")


# --- Report ---------------------------------------------------------------------------------


def report(
    servers: list[Server], cases: list[Case], samples: dict[tuple[str, str], Samples]
) -> None:
    from django.db import connection

    current = servers[0].name
    baseline = servers[1].name if len(servers) > 1 else None
    print(
        f"\nServer CPU per submission (gunicorn, 1 sync worker; /proc/<pid>/stat utime+stime "
        f"per batch / batch size); database: {connection.vendor}"
    )
    header = f"{'case':<24} {'shots':>5} {'verdict':<8} {'worker CPU':>10}"
    if baseline:
        header += f" {'baseline':>9} {'ratio':>6}"
    header += f" {'db CPU':>7} {'wall p50':>9} {'wall p95':>9}   (ms; goal < 10 ms at 900 shots)"
    print(header)
    for case in cases:
        mine = samples[current, case.name]
        wall = sorted(mine.wall_ms)
        line = f"{case.name:<24} {len(case.body['replay']['shots']):>5} {case.verdict:<8} "
        line += f"{mine.worker_ms():>10.2f}"
        if baseline:
            theirs = samples[baseline, case.name].worker_ms()
            line += f" {theirs:>9.2f} {mine.worker_ms() / theirs:>6.2f}"
        db = mine.db_ms()
        line += f" {db:>7.2f}" if db is not None else f" {'-':>7}"
        line += f" {statistics.median(wall):>9.2f} {wall[int(len(wall) * 0.95) - 1]:>9.2f}"
        print(line)
    print("\nParts timed apart in process (CPU p50, ms; current code)")
    parts = {case.name: part_times(case) for case in cases}
    names = list(next(iter(parts.values())))
    print(f"{'case':<24} " + " ".join(f"{name:>13}" for name in names) + f" {'sum':>7}")
    for case in cases:
        row = parts[case.name]
        cells = " ".join(f"{row[name]:>13.2f}" for name in names)
        print(f"{case.name:<24} {cells} {sum(row.values()):>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="submissions per case and server")
    parser.add_argument("--batch", type=int, default=20, help="submissions per CPU reading")
    parser.add_argument("--database-url", help=f"default: PostgreSQL {DEFAULT_DATABASE}")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file in a temp folder")
    parser.add_argument("--baseline", type=Path, help="another checkout, served side by side")
    parser.add_argument("--profile", metavar="CASE", help="cProfile one case in process instead")
    parser.add_argument("--breakdown", metavar="CASE", help="CPU by part, in process, instead")
    args = parser.parse_args()
    if not args.sqlite and not (args.database_url or "").startswith("sqlite"):
        require(services=("postgres",))
    url = database_url(args)
    setup_django(url)

    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    player, _ = get_user_model().objects.get_or_create(username=f"bench-{uuid.uuid4().hex[:8]}")
    token = Token.objects.get_or_create(user=player)[0].key
    cases = make_cases()
    for option, run in ((args.profile, profile), (args.breakdown, breakdown)):
        if option:
            by_name = {case.name: case for case in cases}
            if option not in by_name:
                sys.exit(f"one of {', '.join(repr(name) for name in by_name)}")
            run(by_name[option], player, token, args.repeat)
            return
    servers = [Server("current", ROOT, url)]
    if args.baseline:
        servers.append(Server("baseline", args.baseline.resolve(), url))
    with running(servers):
        samples = run_batches(servers, cases, player, token, args.repeat, args.batch)
    print(f"{args.repeat} submissions per case and server, batches of {args.batch}, alternating")
    report(servers, cases, samples)


if __name__ == "__main__":
    main()
