"""The server's re-run of a replay with numpy: ``rules.replay_run``, a column at a time.

``games.rules`` stays pure Python because the desktop client imports it; the server re-runs a
replay here instead, with the same rules read from that module (the target's motion, the
square, the rings, the streak bonus). Anything that is not a plain list of allowed
``[tick, x, y]`` integers goes to ``rules.replay_run`` itself, so every refusal is that
function's error, word for word. ``tests/games/test_replay_columns.py`` pins the two to the same
shots, points and errors.

Why, measured on a 900-shot replay (``bench/games_submit.py``'s parts table, CPU p50): its
check and re-run took 0.73 ms with ``rules.replay_run``, here 0.23 ms; ``human_limits`` reads
these columns instead of 900 named tuples, 0.51 -> 0.20 ms. A bot round (95 shots) costs the
same either way (0.14 -> 0.11 ms for both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from games import rules

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Ring n's outer radius squared (units), for ``searchsorted``: ``rules.ring_for``'s bisect.
_RING_REACH2 = np.array(
    [(ring * rules.RING_WIDTH * rules.SCALE) ** 2 for ring in range(1, len(rules.RING_POINTS) + 1)],
    dtype=np.int64,
)
# Points of ring 1..7; index 0 (a miss) is worth nothing.
_RING_POINTS = np.array((0, *rules.RING_POINTS), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class ReplayedShots:
    """A round's shots as the server re-ran them: one array per ``rules.ShotResult`` field."""

    tick: IntArray
    x: IntArray  # where the shot landed, play-area pixels
    y: IntArray
    dx: FloatArray  # relative to the target's centre, pixels
    dy: FloatArray
    hit: BoolArray
    ring: IntArray  # 1..7; 0 for a miss (``rules.ShotResult.ring`` is None there)
    shot_points: IntArray

    @property
    def points(self) -> int:
        return int(self.shot_points.sum())

    @property
    def hits(self) -> int:
        return int(np.count_nonzero(self.hit))

    @property
    def misses(self) -> int:
        return len(self.tick) - self.hits

    def __len__(self) -> int:
        return len(self.tick)

    def details(self, limit: int) -> list[dict[str, Any]]:
        """The score API's ``shots``: ``rules.ShotResult.as_detail`` of the first ``limit``."""
        rows = zip(
            self.dx[:limit].tolist(),
            self.dy[:limit].tolist(),
            self.hit[:limit].tolist(),
            self.ring[:limit].tolist(),
            strict=True,
        )
        return [{"x": x, "y": y, "hit": hit, "ring": ring or None} for x, y, hit, ring in rows]

    def rows(self) -> list[rules.ShotResult]:
        """The same shots as ``rules.ShotResult`` tuples (tests, and the bench's comparisons)."""
        columns = (self.tick, self.x, self.y, self.dx, self.dy, self.hit, self.ring)
        return [
            rules.ShotResult(tick, x, y, dx, dy, hit, ring or None, points)
            for (tick, x, y, dx, dy, hit, ring), points in zip(
                zip(*(column.tolist() for column in columns), strict=True),
                self.shot_points.tolist(),
                strict=True,
            )
        ]

    @classmethod
    def from_shots(cls, shots: Sequence[rules.ShotResult]) -> ReplayedShots:
        """The columns of shots re-run by ``rules`` (``Round.shoot``, ``rules.simulate``)."""
        if not shots:
            return _empty()
        tick, x, y, dx, dy, hit, ring, points = zip(*shots, strict=True)
        return cls(
            tick=np.array(tick, dtype=np.int64),
            x=np.array(x, dtype=np.int64),
            y=np.array(y, dtype=np.int64),
            dx=np.array(dx, dtype=np.float64),
            dy=np.array(dy, dtype=np.float64),
            hit=np.array(hit, dtype=np.bool_),
            ring=np.array([r or 0 for r in ring], dtype=np.int64),
            shot_points=np.array(points, dtype=np.int64),
        )


def _empty() -> ReplayedShots:
    ints = np.zeros(0, dtype=np.int64)
    floats = np.zeros(0, dtype=np.float64)
    return ReplayedShots(ints, ints, ints, floats, floats, np.zeros(0, np.bool_), ints, ints)


def replay_rerun(replay: object, *, mode: str, duration_s: float) -> ReplayedShots:
    """``rules.replay_run(replay, mode=mode, duration_s=duration_s)``, as columns.

    Raises the same ``rules.ReplayError`` for the same replay.
    """
    seed, tick_rate, ticks, shots = rules.replay_header(replay, duration_s=duration_s)
    columns = _allowed_columns(shots, ticks, tick_rate)
    if columns is None:
        # Some shot breaks a rule (or is not plain integers): the rule-by-rule path says which.
        result = rules.replay_run(replay, mode=mode, duration_s=duration_s)
        return ReplayedShots.from_shots(result.shots)
    if not len(columns):
        return _empty()
    return _score(rules.target_motion(mode, seed, tick_rate), mode, columns)


def _allowed_columns(shots: list[Any], ticks: int, tick_rate: int) -> IntArray | None:
    """The shots as an ``(n, 3)`` array when every one is three integers that ``Round.shoot``
    accepts in turn; otherwise None. The rules of ``rules._allowed_columns``, over arrays."""
    if not shots:
        return np.zeros((0, 3), dtype=np.int64)
    if len(shots) > rules.MAX_REPLAY_SHOTS:
        return None
    if set(map(type, shots)) != {list} or set(map(len, shots)) != {3}:
        return None
    if set(map(type, chain.from_iterable(shots))) != {int}:  # bool and float are not int
        return None
    try:
        array = np.array(shots, dtype=np.int64)
    except OverflowError:  # beyond 64 bits: out of bounds anyway, said shot by shot
        return None
    tick, x, y = array[:, 0], array[:, 1], array[:, 2]
    within = (
        tick.min() >= 0
        and tick.max() < ticks
        and x.min() >= 0
        and x.max() < rules.WIDTH
        and y.min() >= 0
        and y.max() < rules.HEIGHT
    )
    if not within:
        return None
    increasing = bool(np.all(tick[1:] > tick[:-1]))
    # Shot i and shot i - MAX_SHOTS_PER_SECOND at least a second apart.
    per_second = rules.MAX_SHOTS_PER_SECOND
    rate = bool(np.all(tick[per_second:] - tick[:-per_second] >= tick_rate))
    return array if increasing and rate else None


def _fold(start: int, velocity: int, lo: int, hi: int, tick: IntArray) -> IntArray:
    """``rules._reflect(start + velocity * tick, lo, hi)`` for every tick (Python's ``%``)."""
    span = hi - lo
    if span <= 0:
        return np.full_like(tick, lo)
    period = 2 * span
    offset = (start - lo + velocity * tick) % period
    return lo + np.where(offset <= span, offset, period - offset)


def _score(motion: rules.Motion, mode: str, columns: IntArray) -> ReplayedShots:
    """``Round.shoot``'s scoring of shots known to be allowed."""
    tick, x, y = columns[:, 0], columns[:, 1], columns[:, 2]
    dx = x * rules.SCALE - _fold(motion.x0, motion.vx, motion.lo_x, motion.hi_x, tick)
    dy = y * rules.SCALE - _fold(motion.y0, motion.vy, motion.lo_y, motion.hi_y, tick)
    if mode == "bullseye":
        # bisect_left over the rings' reach: the first ring whose reach is >= the distance.
        ring = np.searchsorted(_RING_REACH2, dx * dx + dy * dy, side="left") + 1
        hit = ring <= len(rules.RING_POINTS)
        ring = np.where(hit, ring, 0)
        shot_points = _RING_POINTS[ring]
    else:
        half = rules.SQUARE_HALF * rules.SCALE
        hit = (np.abs(dx) <= half) & (np.abs(dy) <= half)
        ring = hit.astype(np.int64)
        # A hit's streak: shots since the last miss before it (``rules._streak_points``).
        index = np.arange(len(tick))
        last_miss = np.maximum.accumulate(np.where(hit, -1, index))
        streak = index - last_miss
        bonus = rules.HIT_POINTS + rules.STREAK_BONUS * (streak - 1)
        shot_points = np.where(hit, np.minimum(rules.MAX_POINTS_PER_HIT, bonus), 0)
    return ReplayedShots(
        tick=tick,
        x=x,
        y=y,
        dx=dx / rules.SCALE,
        dy=dy / rules.SCALE,
        hit=hit,
        ring=ring,
        shot_points=shot_points,
    )
