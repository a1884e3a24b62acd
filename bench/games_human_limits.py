"""The human-limits model against the bundled bot and computed perfect rounds (figures for docs).

    .venv/bin/python bench/games_human_limits.py [--seeds 200]

For each mode and round length, over many seeds: the bot's measured spread (median aim error,
share of shots "dead on" and in the 10 px centre, share of post-bounce shots that follow the
turn, shortest gap between shots) and how many of its rounds the model flags; then the same
model on computed perfect rounds (every shot on the target's centre, 15 and 4 a second).
Pure Python, no database.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from games import human_limits as hl
from games import rules


def perfect(mode: str, seed: int, duration_s: int, per_second: int) -> rules.Round:
    ticks = rules.ticks_for(duration_s)
    game = rules.Round(mode, seed, rules.TICK_RATE, ticks)
    for tick in range(0, ticks, rules.TICK_RATE // per_second):
        x, y = game.motion.at(tick)
        game.shoot(round(x / rules.SCALE), round(y / rules.SCALE), tick)
    return game


def spread(mode: str, seed: int, game: rules.Round) -> dict[str, float]:
    shots = game.result.shots
    motion = game.motion
    sigma = hl.aim_sigma(hl.target_speed(motion, rules.TICK_RATE))
    errors = [math.hypot(s.dx, s.dy) for s in shots]
    lag = round(hl.REACTION_S * rules.TICK_RATE)
    turned = followed = 0
    for shot in shots:
        if motion.directions(shot.tick) == motion.directions(max(shot.tick - lag, 0)):
            continue
        real = motion.at(shot.tick)
        guess = motion.straight_line(shot.tick, lag)
        aim = (shot.x * rules.SCALE, shot.y * rules.SCALE)
        turned += 1
        followed += math.dist(aim, real) < math.dist(aim, guess)
    gaps = [b.tick - a.tick for a, b in itertools.pairwise(shots)]
    return {
        "error": statistics.median(errors),
        "dead_on": sum(e < hl.DEAD_ON * sigma for e in errors) / len(errors),
        "centre": sum(e <= hl.CENTRE_RADIUS_PX for e in errors) / len(errors),
        "turned": turned,
        "followed": followed,
        "min_gap_ms": min(gaps) * 1000 / rules.TICK_RATE if gaps else math.inf,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args()
    print("bot:")
    for mode in rules.MODES:
        for duration in (4, 30, 120):
            flagged: Counter[str] = Counter()
            stats = []
            for seed in range(args.seeds):
                game = rules.bot_round(mode, seed, duration)
                found = hl.human_limits_check(
                    mode=mode, seed=seed, tick_rate=rules.TICK_RATE, shots=game.result.shots
                )
                flagged.update(f.code for f in found)
                stats.append(spread(mode, seed, game))
            turned = sum(s["turned"] for s in stats)
            followed = sum(s["followed"] for s in stats)
            print(
                f"  {mode:<8} {duration:>4} s: median error "
                f"{statistics.median(s['error'] for s in stats):5.1f} px, dead on "
                f"{statistics.mean(s['dead_on'] for s in stats):6.2%}, centre "
                f"{statistics.mean(s['centre'] for s in stats):6.2%}, follows the turn "
                f"{followed}/{turned} ({followed / max(turned, 1):.0%}), shortest gap "
                f"{min(s['min_gap_ms'] for s in stats):.0f} ms; flagged {dict(flagged) or 0}"
            )
    print("computed perfect rounds:")
    for mode in rules.MODES:
        for per_second in (15, 4):
            for duration in (4, 30, 120):
                flagged = Counter()
                passed = 0
                for seed in range(min(args.seeds, 50)):
                    game = perfect(mode, seed, duration, per_second)
                    found = hl.human_limits_check(
                        mode=mode, seed=seed, tick_rate=rules.TICK_RATE, shots=game.result.shots
                    )
                    flagged.update(f.code for f in found)
                    passed += not found
                print(
                    f"  {mode:<8} {per_second:>2}/s {duration:>4} s: passed {passed}, "
                    f"flagged {dict(flagged)}"
                )


if __name__ == "__main__":
    main()
