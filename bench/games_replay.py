"""How long the server's replay check of one round takes (goal: a 60 s round in < 50 ms).

    .venv/bin/python bench/games_replay.py [--repeat 200]

Times exactly what ``score_submit`` runs for a replay: ``replay_columns.replay_rerun`` (the
checks of ``rules.replay_validate`` and the re-run of ``rules.simulate``, with numpy), and beside
it, "rules cpu", the pure-Python ``rules.replay_run`` it stands in for (what the client runs).
Side by side: a 60 s bot round (about 2 shots a second), a 60 s round at the highest shot rate
the rules allow (15 a second, 900 shots) and a one-hour round at that rate capped by the replay
size limit. No database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from games import rules
from games.replay_columns import replay_rerun


def max_rate_replay(mode: str, seed: int, duration_s: int) -> dict:
    ticks = rules.ticks_for(duration_s)
    step = rules.TICK_RATE // rules.MAX_SHOTS_PER_SECOND  # one shot every 8 ticks
    count = min(ticks // step, rules.MAX_REPLAY_SHOTS)
    motion = rules.target_motion(mode, seed)
    shots = []
    for n in range(count):
        tick = n * step
        x, y = motion.at(tick)
        shots.append([tick, x // rules.SCALE + n % 7 - 3, y // rules.SCALE + n % 5 - 2])
    return {"seed": seed, "tick_rate": rules.TICK_RATE, "ticks": ticks, "shots": shots}


def time_replay(run: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU ms per replay (CPU time is what a busy machine cannot inflate)."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return sorted(wall), sorted(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    cases = []
    for mode in rules.MODES:
        cases.append((f"{mode} 60 s bot", mode, rules.bot_round(mode, 7, 60).replay(), 60))
        cases.append((f"{mode} 60 s max rate", mode, max_rate_replay(mode, 7, 60), 60))
        cases.append((f"{mode} 1 h size cap", mode, max_rate_replay(mode, 7, 3600), 3600))
    print(
        f"{'round':<24} {'shots':>6} {'wall p50':>9} {'wall p95':>9} {'cpu p50':>8} "
        f"{'cpu p95':>8} {'rules cpu':>9} {'x':>5}   (ms; goal < 50 ms for 60 s)"
    )
    for name, mode, replay, duration in cases:
        wall, cpu = time_replay(
            partial(replay_rerun, replay, mode=mode, duration_s=duration), args.repeat
        )
        _, pure = time_replay(
            partial(rules.replay_run, replay, mode=mode, duration_s=duration), args.repeat
        )
        p95 = int(len(wall) * 0.95) - 1
        print(
            f"{name:<24} {len(replay['shots']):>6} {statistics.median(wall):>9.3f} "
            f"{wall[p95]:>9.3f} {statistics.median(cpu):>8.3f} {cpu[p95]:>8.3f} "
            f"{statistics.median(pure):>9.3f} "
            f"{statistics.median(cpu) / statistics.median(pure):>5.2f}"
        )


if __name__ == "__main__":
    main()
