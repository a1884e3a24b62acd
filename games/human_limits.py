"""Human limits: could a person have fired this round's shots? A replay in, findings out.

Framework-free on purpose (no Django, no pygame; numpy columns, as the server's re-run gives
them): the score service feeds it the server's own re-run of a replay and stores what it
returns; the bench and the docs run it on the bot and on computed perfect rounds. The numbers
and where they come from are in docs/games.md ("Human limits"). A replay that matches its claim
but breaks a rule here is not rejected: it is stored for a person to review
(``review_status = "review"``), because a model of people is a model, and a rare player may
beat it.

The rules, one for one with ``human_limits_check``:

- ``shot_gap``: aimed shots come at most ``1 / MIN_SHOT_GAP_S`` = 10 a second. A gap shorter than
  ``MIN_SHOT_GAP_S`` (100 ms) between two consecutive shots is a *short gap*; a round may have
  ``2 + shots // 50`` of them (a double click now and then), no more.
- ``bounce_reaction``: a person sees the target turn at a wall only a reaction time later. A shot
  fired within ``REACTION_S`` (150 ms) after a bounce is aimed at where the target *would* be had
  it not turned (its position ``REACTION_S`` earlier, carried on in a straight line). A shot
  *follows the turn* when it is nearer the real, turned target than that straight-line point
  (and they are at least ``MIN_TURN_PX`` apart, so the two can be told apart). A person follows
  the turn no more often than by chance (one in two); when the post-bounce shots follow it so
  often that chance explains it with probability below ``ALPHA`` (one-sided binomial test,
  ``p = 0.5``, at least ``MIN_SAMPLE`` such shots), the round is flagged.
- ``aim_too_steady``: aim error grows with target speed. The best human error per axis is
  ``sigma(v) = sqrt(AIM_SIGMA_PX**2 + (v * TIMING_SIGMA_S)**2)`` pixels (a still pointing error
  plus the distance the target moves in the click's timing error), for target speed ``v`` in
  pixels per second. A shot within ``DEAD_ON * sigma(v)`` of the centre is *dead on*; for that
  best human the chance of it is ``p0 = 1 - exp(-DEAD_ON**2 / 2)`` (Rayleigh), about 12%. When a
  round has so many dead-on shots that ``P(X >= dead_on | n shots, p0) < ALPHA``, it is flagged.
- ``centre_ring_ceiling``: over at least ``CENTRE_MIN_SHOTS`` shots, no more than
  ``CENTRE_CEILING`` (90%) of them land within ``CENTRE_RADIUS_PX`` (10 px, the bullseye's centre
  ring; the same disc in the middle of the square) of the moving target's centre.

Each finding carries a code and a sentence with the round's figures, for the reviewer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from games import rules
from games.replay_columns import BoolArray, FloatArray, IntArray, ReplayedShots

MIN_SHOT_GAP_S = 0.100
SHORT_GAPS_ALLOWED = 2
SHORT_GAPS_PER_SHOTS = 50  # one more allowed per this many shots

REACTION_S = 0.150
MIN_TURN_PX = 2.0
FOLLOW_CHANCE = 0.5

AIM_SIGMA_PX = 2.0
TIMING_SIGMA_S = 0.010
DEAD_ON = 0.5

CENTRE_RADIUS_PX = float(rules.RING_WIDTH)
CENTRE_CEILING = 0.90
CENTRE_MIN_SHOTS = 20

ALPHA = 1e-3
MIN_SAMPLE = 8


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


def target_speed(motion: rules.Motion, tick_rate: int) -> float:
    """The target's speed in pixels per second (constant through a round: bounces keep it)."""
    return math.hypot(motion.vx, motion.vy) * tick_rate / rules.SCALE


def aim_sigma(speed: float) -> float:
    """The best human's aim error per axis, pixels, against a target moving at ``speed`` px/s."""
    return math.hypot(AIM_SIGMA_PX, speed * TIMING_SIGMA_S)


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """``P(X >= successes)`` for ``X ~ Binomial(trials, p)``, summed in log space.

    Past the mode the terms only shrink, so once a term no longer changes the sum no later one
    can: the loop stops there with the same float the full sum gives (a 900-shot round sums a
    few dozen terms, not 900).
    """
    if successes <= 0:
        return 1.0
    if successes > trials:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(trials + 1)
    mode = (trials + 1) * p
    total = 0.0
    for k in range(successes, trials + 1):
        log_term = (
            log_n
            - math.lgamma(k + 1)
            - math.lgamma(trials - k + 1)
            + k * log_p
            + (trials - k) * log_q
        )
        term = math.exp(log_term)
        if k > mode and total + term == total:
            break
        total += term
    return min(total, 1.0)


def _check_gaps(ticks: IntArray, tick_rate: int) -> Finding | None:
    min_gap = MIN_SHOT_GAP_S * tick_rate
    short = int(np.count_nonzero(np.diff(ticks) < min_gap))
    allowed = SHORT_GAPS_ALLOWED + len(ticks) // SHORT_GAPS_PER_SHOTS
    if short <= allowed:
        return None
    return Finding(
        "shot_gap",
        f"{short} of {len(ticks) - 1} gaps between shots are under "
        f"{MIN_SHOT_GAP_S * 1000:.0f} ms (a person: at most {allowed} in {len(ticks)} shots).",
    )


def _turned(motion: rules.Motion, ticks: IntArray, lag: int) -> BoolArray:
    """For each tick: did the target turn at a wall in the ``lag`` ticks before it, i.e.
    ``motion.directions(tick) != motion.directions(max(tick - lag, 0))``? A direction is the
    parity of the walls an axis's straight line has crossed (exact integers, whole round at once).
    """
    before = np.where(ticks > lag, ticks - lag, 0)
    turned = np.zeros(len(ticks), dtype=np.bool_)
    for start, velocity, lo, hi in (
        (motion.x0, motion.vx, motion.lo_x, motion.hi_x),
        (motion.y0, motion.vy, motion.lo_y, motion.hi_y),
    ):
        span = hi - lo
        if span > 0:
            base = start - lo
            crossed = (base + velocity * ticks) // span - (base + velocity * before) // span
            turned |= (crossed & 1) == 1
    return turned


def _check_bounce_reaction(
    shots: ReplayedShots, motion: rules.Motion, tick_rate: int
) -> Finding | None:
    lag = round(REACTION_S * tick_rate)
    min_turn = MIN_TURN_PX * rules.SCALE
    after_bounce = followed = 0
    # A bounce within the lag flips an axis's direction (the lag is far shorter than a
    # crossing, so never twice): without one, the straight line is the real position. Most
    # shots are far from a bounce; ``_turned`` tells them apart for the whole round at once.
    near = np.flatnonzero(_turned(motion, shots.tick, lag))
    columns = (shots.tick, shots.x, shots.y, shots.dx, shots.dy)
    for tick, x, y, dx, dy in zip(*(column[near].tolist() for column in columns), strict=True):
        aim_x, aim_y = x * rules.SCALE, y * rules.SCALE
        # The re-run's offset gives the real centre without computing it again.
        real_x, real_y = aim_x - round(dx * rules.SCALE), aim_y - round(dy * rules.SCALE)
        guess_x, guess_y = motion.straight_line(tick, lag)
        if math.hypot(real_x - guess_x, real_y - guess_y) < min_turn:
            continue  # too close to tell apart
        after_bounce += 1
        if math.hypot(aim_x - real_x, aim_y - real_y) < math.hypot(
            aim_x - guess_x, aim_y - guess_y
        ):
            followed += 1
    if after_bounce < MIN_SAMPLE:
        return None
    chance = binomial_tail(followed, after_bounce, FOLLOW_CHANCE)
    if chance >= ALPHA:
        return None
    return Finding(
        "bounce_reaction",
        f"{followed} of {after_bounce} shots fired within {REACTION_S * 1000:.0f} ms of a bounce "
        f"aimed at the turned target (a person reacts later; chance {chance:.1e}).",
    )


def _check_aim(distances: FloatArray, speed: float) -> Finding | None:
    sigma = aim_sigma(speed)
    radius = DEAD_ON * sigma
    dead_on = int(np.count_nonzero(distances < radius))
    p0 = 1 - math.exp(-(DEAD_ON**2) / 2)
    chance = binomial_tail(dead_on, len(distances), p0)
    if chance >= ALPHA:
        return None
    return Finding(
        "aim_too_steady",
        f"{dead_on} of {len(distances)} shots within {radius:.1f} px of the centre of a target "
        f"moving at {speed:.0f} px/s (the best human: about {p0:.0%} of shots; "
        f"chance {chance:.1e}).",
    )


def _check_centre_ring(distances: FloatArray) -> Finding | None:
    if len(distances) < CENTRE_MIN_SHOTS:
        return None
    centre = int(np.count_nonzero(distances <= CENTRE_RADIUS_PX))
    if centre <= CENTRE_CEILING * len(distances):
        return None
    return Finding(
        "centre_ring_ceiling",
        f"{centre} of {len(distances)} shots ({centre / len(distances):.0%}) in the "
        f"{CENTRE_RADIUS_PX:.0f} px centre of a moving target (ceiling {CENTRE_CEILING:.0%}).",
    )


def human_limits_check(
    *,
    mode: str,
    seed: int,
    tick_rate: int,
    shots: ReplayedShots | Sequence[rules.ShotResult],
) -> list[Finding]:
    """Every human limit the round's shots break (empty: a person could have played it).

    ``shots`` are the server's re-run of the replay, in order: ``replay_columns.replay_rerun``'s
    columns, or ``rules.simulate(...).shots``.
    """
    if not isinstance(shots, ReplayedShots):
        shots = ReplayedShots.from_shots(shots)
    motion = rules.target_motion(mode, seed, tick_rate)
    # Each shot's distance from the target's centre, pixels: two rules read it. math.hypot, not
    # numpy's: the rules compare it with a radius, so it is the very float the model documents.
    distances = np.array(list(map(math.hypot, shots.dx.tolist(), shots.dy.tolist())))
    checks = (
        _check_gaps(shots.tick, tick_rate),
        _check_bounce_reaction(shots, motion, tick_rate),
        _check_aim(distances, target_speed(motion, tick_rate)),
        _check_centre_ring(distances),
    )
    return [finding for finding in checks if finding is not None]
