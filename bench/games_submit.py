"""Server CPU of one score submission with its replay (goal: < 10 ms at the 900-shot maximum).

    .venv/bin/python bench/games_submit.py                   # SQLite file under a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/games_submit.py

``POST /api/v1/scores/`` through Django's whole stack in this process (JSON parsing, token auth,
the serializer, plausibility rules, the replay check, the round check, the human-limits model,
the insert and the leaderboard rows), each under its own server-issued round. Side by side, in
alternating batches: a 60 s bot round (about 100 shots) and a 60 s round at the highest rate
the rules allow (15 a second: 900 shots, which the human-limits model sends to review). The
CPU time is this process's (``time.process_time``): what a busy machine cannot inflate; the
database server's own work is not in it (with SQLite it is, in-process). The pure parts are
timed apart: ``replay_validate`` + ``simulate`` and ``human_limits_check``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from needs import require

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(database_url: str | None) -> None:
    if database_url is None:
        database_url = f"sqlite:///{tempfile.mkdtemp(prefix='games-submit-')}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "targets_site.settings_test"
    # The benchmark measures the submission path, not the rate limiter.
    os.environ["API_THROTTLE_RATES"] = ",".join(
        f"{s}=1000000/min" for s in ("anon", "user", "login", "register", "scores", "readings")
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


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


def main() -> None:
    require(services=("postgres",))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="submissions per case")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from games import human_limits, rules, services

    player, _ = get_user_model().objects.get_or_create(username=f"bench-{uuid.uuid4().hex[:8]}")
    token, _ = Token.objects.get_or_create(user=player)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    duration = 60
    cases = {
        f"{mode} 60 s {kind}": (mode, make(mode, 7, duration))
        for mode in rules.MODES
        for kind, make in (("bot", bot_body), ("max rate", max_rate_body))
    }
    samples: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in cases}
    issued_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=duration + 5)
    batch = 20
    for round_number in range(max(args.repeat // batch, 1)):
        names = list(cases) if round_number % 2 == 0 else list(cases)[::-1]
        for name in names:
            mode, body = cases[name]
            for _ in range(batch):
                game_round = services.round_issue(
                    player=player,
                    mode=mode,
                    duration_s=duration,
                    now=issued_at,
                    seed=body["replay"]["seed"],
                )
                one = {**body, "submission_id": str(uuid.uuid4()), "round_id": str(game_round.id)}
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.post("/api/v1/scores/", one, format="json")
                samples[name]["cpu"].append((time.process_time() - started_cpu) * 1000)
                samples[name]["wall"].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 201, response.content

    print(f"database: {connection.vendor}; {args.repeat} submissions per case, batches of {batch}")
    print(
        f"{'case':<22} {'shots':>6} {'verdict':<22} {'wall p50':>9} {'wall p95':>9} "
        f"{'cpu p50':>8} {'cpu p95':>8} {'pure':>7}  (ms; goal cpu < 10 ms at 900 shots)"
    )
    for name, (mode, body) in cases.items():
        replay = body["replay"]
        started = time.process_time()
        for _ in range(20):
            shots = rules.replay_validate(replay, duration_s=duration)
            result = rules.simulate(
                mode, replay["seed"], replay["tick_rate"], replay["ticks"], shots
            )
            findings = human_limits.human_limits_check(
                mode=mode, seed=replay["seed"], tick_rate=replay["tick_rate"], shots=result.shots
            )
        pure = (time.process_time() - started) * 1000 / 20
        verdict = "review" if findings else "verified"
        wall, cpu = sorted(samples[name]["wall"]), sorted(samples[name]["cpu"])
        p95 = max(int(len(wall) * 0.95) - 1, 0)
        print(
            f"{name:<22} {len(replay['shots']):>6} {verdict:<22} "
            f"{statistics.median(wall):>9.2f} {wall[p95]:>9.2f} "
            f"{statistics.median(cpu):>8.2f} {cpu[p95]:>8.2f} {pure:>7.2f}"
        )


if __name__ == "__main__":
    main()
