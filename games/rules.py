"""The game's rules: pure Python, shared by the pygame client and the server's replay check.

No pygame, no Django, no numpy here: the server imports this module to re-run a round and the
client imports it to play one, so both always agree.

A round is fully determined by ``(mode, seed, tick_rate, ticks, shots)``:

- time advances in fixed ticks (``TICK_RATE`` per second); rendering interpolates between them;
- positions are integers in ``SCALE`` units per pixel, so every machine computes the same round
  (no float rounding, no libm differences);
- the target starts at a position and velocity drawn from ``random.Random(seed)`` and bounces off
  the walls of the ``WIDTH`` x ``HEIGHT`` play area; its position at tick ``t`` is a closed form
  (the unfolded straight line reflected into the area), so replaying a round costs time per shot,
  not per tick;
- a shot ``(tick, x, y)`` (integer pixels) is judged against the target's position at that tick.
"""

from __future__ import annotations

import operator
import random
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice, repeat
from typing import Any, NamedTuple, TypeGuard

MODES = ("moving", "bullseye")
TICK_RATE = 120
WIDTH = 800
HEIGHT = 600
SCALE = 1000  # position units per pixel

# bullseye: seven rings from the centre out.
RING_POINTS = (100, 80, 60, 50, 40, 30, 20)
RING_COLOURS = ("red", "white", "blue", "yellow", "green", "black", "orange")
RING_RGB = (
    (220, 30, 30),
    (245, 245, 245),
    (40, 90, 220),
    (245, 210, 40),
    (40, 170, 70),
    (20, 20, 20),
    (245, 140, 30),
)
RING_WIDTH = 10  # pixels; ring n (1 = centre) reaches n * RING_WIDTH from the centre
BULLSEYE_RADIUS = RING_WIDTH * len(RING_POINTS)
# Ring n's outer radius squared, units: a shot's ring is the first that reaches its distance.
_RING_REACH2 = [(ring * RING_WIDTH * SCALE) ** 2 for ring in range(1, len(RING_POINTS) + 1)]

# moving: the bouncing square.
SQUARE_HALF = 35  # pixels: the square is 70 x 70
SQUARE_RGB = (70, 160, 240)  # its colour in the window and in target.png
HIT_POINTS = 50
STREAK_BONUS = 10  # per consecutive hit after the first
MAX_POINTS_PER_HIT = 100
FLASH_SECONDS = 0.5

# What a human (or the bot) can plausibly do; the server enforces the same bounds.
MAX_SHOTS_PER_SECOND = 15
MIN_DURATION_S = 1
MAX_DURATION_S = 3600
MAX_REPLAY_SHOTS = MAX_SHOTS_PER_SECOND * 120  # a replay body stays well under 100 KB
MAX_SEED = 2**53 - 1  # JSON-safe integer

# The bot's aiming error, pixels either way on each axis.
BOT_SPREAD = {"moving": 48, "bullseye": 60}

# The bot's reaction time, seconds: it aims at what it saw this long ago (simple visual
# reaction is about 0.2-0.25 s).
BOT_REACTION_S = (0.2, 0.3)

# Per-axis speeds in pixels per second: (minimum, maximum).
SPEEDS = {"moving": (170, 290), "bullseye": (70, 140)}


def target_half_extent(mode: str) -> int:
    """Pixels from the target's centre to its edge along an axis."""
    return SQUARE_HALF if mode == "moving" else BULLSEYE_RADIUS


@dataclass(frozen=True)
class Motion:
    """A target's straight-line motion with wall bounce, in integer units."""

    x0: int
    y0: int
    vx: int  # units per tick
    vy: int
    lo_x: int
    hi_x: int
    lo_y: int
    hi_y: int

    def at(self, tick: int) -> tuple[int, int]:
        return (
            _reflect(self.x0 + self.vx * tick, self.lo_x, self.hi_x),
            _reflect(self.y0 + self.vy * tick, self.lo_y, self.hi_y),
        )

    def at_pixels(self, tick: float) -> tuple[float, float]:
        """The centre in pixels at a fractional tick, interpolated between whole ticks."""
        whole = int(tick)
        alpha = tick - whole
        x1, y1 = self.at(whole)
        if alpha <= 0:
            return x1 / SCALE, y1 / SCALE
        x2, y2 = self.at(whole + 1)
        return (x1 + (x2 - x1) * alpha) / SCALE, (y1 + (y2 - y1) * alpha) / SCALE

    def directions(self, tick: int) -> tuple[int, int]:
        """(+1 or -1, +1 or -1): whether each axis moves as its straight line does at ``tick``."""
        return (
            _direction(self.x0 + self.vx * tick, self.lo_x, self.hi_x),
            _direction(self.y0 + self.vy * tick, self.lo_y, self.hi_y),
        )

    def straight_line(self, tick: int, lag: int) -> tuple[int, int]:
        """Where the target seen ``lag`` ticks before ``tick`` would be at ``tick`` had it not
        turned at a wall since: what a person who reacts ``lag`` ticks late aims at (units)."""
        seen = max(tick - lag, 0)
        ahead = tick - seen
        x, y = self.at(seen)
        dir_x = _direction(self.x0 + self.vx * seen, self.lo_x, self.hi_x)
        dir_y = _direction(self.y0 + self.vy * seen, self.lo_y, self.hi_y)
        return x + dir_x * self.vx * ahead, y + dir_y * self.vy * ahead


def _reflect(unfolded: int, lo: int, hi: int) -> int:
    """Fold a straight-line coordinate into ``[lo, hi]`` as a ball bouncing off both walls."""
    span = hi - lo
    if span <= 0:
        return lo
    offset = (unfolded - lo) % (2 * span)
    return lo + (offset if offset <= span else 2 * span - offset)


def _fold_all(start: int, velocity: int, lo: int, hi: int, ticks: Sequence[int]) -> list[int]:
    """``_reflect(start + velocity * tick, lo, hi)`` for every tick, in one pass."""
    span = hi - lo
    if span <= 0:
        return [lo] * len(ticks)
    period, base = 2 * span, start - lo
    offsets = [(base + velocity * tick) % period for tick in ticks]
    return [lo + (offset if offset <= span else period - offset) for offset in offsets]


def _direction(unfolded: int, lo: int, hi: int) -> int:
    """+1 while a folded coordinate moves as its straight line does, -1 after an odd bounce."""
    span = hi - lo
    if span <= 0:
        return 1
    return 1 if (unfolded - lo) % (2 * span) < span else -1


def target_motion(mode: str, seed: int, tick_rate: int = TICK_RATE) -> Motion:
    """The target's start position and velocity, drawn from the round's seed."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    rng = random.Random(seed)
    half = target_half_extent(mode) * SCALE
    lo_x, hi_x = half, WIDTH * SCALE - half
    lo_y, hi_y = half, HEIGHT * SCALE - half
    slow, fast = SPEEDS[mode]
    x0 = rng.randint(lo_x, hi_x)
    y0 = rng.randint(lo_y, hi_y)
    vx = rng.randint(slow, fast) * SCALE // tick_rate * rng.choice((-1, 1))
    vy = rng.randint(slow, fast) * SCALE // tick_rate * rng.choice((-1, 1))
    return Motion(x0, y0, vx, vy, lo_x, hi_x, lo_y, hi_y)


def ring_for(dx: int, dy: int) -> int | None:
    """The bullseye ring (1 = centre) an offset in units falls in, or None outside the target."""
    ring = bisect_left(_RING_REACH2, dx * dx + dy * dy) + 1
    return ring if ring <= len(RING_POINTS) else None


def square_hit(dx: int, dy: int) -> bool:
    half = SQUARE_HALF * SCALE
    return abs(dx) <= half and abs(dy) <= half


def moving_points(streak: int) -> int:
    """Points for a hit that makes a streak of ``streak`` consecutive hits."""
    return min(MAX_POINTS_PER_HIT, HIT_POINTS + STREAK_BONUS * (streak - 1))


def max_points(mode: str, hits: int) -> int:
    """The most points ``hits`` hits can be worth in a mode."""
    if hits <= 0:
        return 0
    if mode == "bullseye":
        return RING_POINTS[0] * hits
    # One unbroken streak is the best case.
    capped_from = (MAX_POINTS_PER_HIT - HIT_POINTS) // STREAK_BONUS + 1
    ramp = min(hits, capped_from)
    return sum(moving_points(n) for n in range(1, ramp + 1)) + MAX_POINTS_PER_HIT * (hits - ramp)


def min_points(mode: str, hits: int) -> int:
    """The fewest points ``hits`` hits can be worth in a mode."""
    return max(hits, 0) * (RING_POINTS[-1] if mode == "bullseye" else HIT_POINTS)


# Named tuples, not dataclasses: a 900-shot replay makes 900 of each, and a frozen dataclass
# costs about five times as much to create.
class Shot(NamedTuple):
    tick: int
    x: int
    y: int


class ShotResult(NamedTuple):
    tick: int
    x: int  # where the shot landed, play-area pixels
    y: int
    dx: float  # relative to the target's centre, pixels
    dy: float
    hit: bool
    ring: int | None  # bullseye ring 1..7; 1 for a hit on the square; None for a miss
    points: int

    def as_detail(self) -> dict[str, Any]:
        """The score API's ``shots`` entry: ``{x, y, hit, ring}`` relative to the target centre."""
        return {"x": self.dx, "y": self.dy, "hit": self.hit, "ring": self.ring}


@dataclass
class RoundResult:
    points: int = 0
    hits: int = 0
    misses: int = 0
    shots: list[ShotResult] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class Round:
    """One round being played tick by tick (the client) or replayed shot by shot (the server)."""

    def __init__(self, mode: str, seed: int, tick_rate: int, ticks: int) -> None:
        if tick_rate <= 0 or ticks <= 0:
            raise ValueError("tick_rate and ticks must be positive")
        self.mode = mode
        self.seed = seed
        self.tick_rate = tick_rate
        self.ticks = ticks
        self.motion = target_motion(mode, seed, tick_rate)
        self.tick = 0
        self.result = RoundResult()
        self.replay_shots: list[Shot] = []
        self.streak = 0
        self.last_hit_tick: int | None = None

    @property
    def finished(self) -> bool:
        return self.tick >= self.ticks

    @property
    def seconds_left(self) -> float:
        return max(self.ticks - self.tick, 0) / self.tick_rate

    def advance(self, ticks: int = 1) -> None:
        self.tick = min(self.tick + ticks, self.ticks)

    def target_units(self, tick: int | None = None) -> tuple[int, int]:
        return self.motion.at(self.tick if tick is None else tick)

    def flashing(self, tick: float) -> bool:
        """True while the target shows its hit flash (``FLASH_SECONDS`` after a hit)."""
        if self.last_hit_tick is None:
            return False
        return 0 <= tick - self.last_hit_tick < FLASH_SECONDS * self.tick_rate

    def shoot(self, x: int, y: int, tick: int | None = None) -> ShotResult | None:
        """Fire at pixel ``(x, y)`` on ``tick`` (default: now). One shot per tick at most.

        Returns None, recording nothing, for a shot that is not allowed: the round is over, the
        tick already had a shot, the point is outside the play area, the gun is still cooling
        (``MAX_SHOTS_PER_SECOND`` in the last second) or empty (``MAX_REPLAY_SHOTS``). These are
        the limits the server's replay check enforces, so a round played here always replays.
        """
        tick = self.tick if tick is None else tick
        if not (0 <= tick < self.ticks) or not (0 <= x < WIDTH and 0 <= y < HEIGHT):
            return None
        shots = self.replay_shots
        if shots and tick <= shots[-1].tick:
            return None
        if len(shots) >= MAX_REPLAY_SHOTS:
            return None
        if (
            len(shots) >= MAX_SHOTS_PER_SECOND
            and tick - shots[-MAX_SHOTS_PER_SECOND].tick < self.tick_rate
        ):
            return None
        cx, cy = self.motion.at(tick)
        dx, dy = x * SCALE - cx, y * SCALE - cy
        if self.mode == "bullseye":
            ring = ring_for(dx, dy)
            hit = ring is not None
            points = RING_POINTS[ring - 1] if ring is not None else 0
        else:
            hit = square_hit(dx, dy)
            ring = 1 if hit else None
            points = moving_points(self.streak + 1) if hit else 0
        self.streak = self.streak + 1 if hit else 0
        result = self.result
        if hit:
            result.hits += 1
            result.points += points
            self.last_hit_tick = tick
        else:
            result.misses += 1
        shot = ShotResult(tick, x, y, dx / SCALE, dy / SCALE, hit, ring, points)
        result.shots.append(shot)
        self.replay_shots.append(Shot(tick, x, y))
        return shot

    def replay(self) -> dict[str, Any]:
        """The ``replay`` object the client sends with its score."""
        return {
            "seed": self.seed,
            "tick_rate": self.tick_rate,
            "ticks": self.ticks,
            "shots": [[shot.tick, shot.x, shot.y] for shot in self.replay_shots],
        }


class ReplayError(ValueError):
    """A replay that breaks a rule; ``code`` is the API's machine-readable error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ticks_for(duration_s: float, tick_rate: int = TICK_RATE) -> int:
    """A round's length in ticks; ``duration_s`` may be any number of seconds (29.5)."""
    return round(duration_s * tick_rate)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def replay_validate(replay: object, *, duration_s: float) -> list[Shot]:
    """Check a replay's shape and bounds; return its shots or raise ``ReplayError``.

    Every rule has its own code so a client can tell what it got wrong.
    """
    _, tick_rate, ticks, shots = replay_header(replay, duration_s=duration_s)
    if _allowed_columns(shots, ticks, tick_rate, entry_type=list) is not None:
        # Shot._make without its Python frame per shot (each entry is known to hold three).
        return list(map(tuple.__new__, repeat(Shot), shots))
    return _shots_checked_one_by_one(shots, ticks, tick_rate)


def replay_run(replay: object, *, mode: str, duration_s: float) -> RoundResult:
    """The server's check of a replay: ``simulate(mode, ..., replay_validate(replay, ...))``,
    the same result and the same errors, with the shots checked once instead of twice."""
    seed, tick_rate, ticks, shots = replay_header(replay, duration_s=duration_s)
    columns = _allowed_columns(shots, ticks, tick_rate, entry_type=list)
    if columns is None:
        shots = _shots_checked_one_by_one(shots, ticks, tick_rate)
    return _simulate_given(mode, seed, tick_rate, ticks, shots, columns)


def replay_header(replay: object, *, duration_s: float) -> tuple[int, int, int, list[Any]]:
    """``(seed, tick_rate, ticks, shots)`` of a replay whose fields are right; the shots unread."""
    if not isinstance(replay, dict):
        raise ReplayError("replay_malformed", "replay must be an object.")
    unknown = sorted(set(replay) - {"seed", "tick_rate", "ticks", "shots"})
    if unknown:
        raise ReplayError("replay_malformed", f"Unknown replay fields: {', '.join(unknown)}.")
    seed, tick_rate, ticks, shots = (replay.get(k) for k in ("seed", "tick_rate", "ticks", "shots"))
    if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise ReplayError("replay_malformed", f"replay.seed must be an integer 0..{MAX_SEED}.")
    if tick_rate != TICK_RATE or not _is_int(tick_rate):
        raise ReplayError("replay_tick_rate", f"replay.tick_rate must be {TICK_RATE}.")
    if not _is_int(ticks) or ticks != ticks_for(duration_s, tick_rate):
        raise ReplayError(
            "replay_duration_mismatch",
            f"replay.ticks must be duration_s x tick_rate ({ticks_for(duration_s, tick_rate)}).",
        )
    if not isinstance(shots, list):
        raise ReplayError("replay_malformed", "replay.shots must be a list of [tick, x, y].")
    if len(shots) > MAX_REPLAY_SHOTS:
        raise ReplayError(
            "replay_too_large", f"replay.shots holds at most {MAX_REPLAY_SHOTS} shots."
        )
    return seed, tick_rate, ticks, shots


def _shots_checked_one_by_one(shots: list[Any], ticks: int, tick_rate: int) -> list[Shot]:
    """The replay's shots, rule by rule in order: the first broken rule is the error raised."""
    parsed: list[Shot] = []
    for index, entry in enumerate(shots):
        if not (isinstance(entry, list) and len(entry) == 3 and all(map(_is_int, entry))):
            raise ReplayError(
                "replay_malformed", f"replay.shots[{index}] must be [tick, x, y] integers."
            )
        tick, x, y = entry
        if not 0 <= tick < ticks:
            raise ReplayError(
                "replay_tick_out_of_round",
                f"replay.shots[{index}] tick {tick} is outside 0..{ticks - 1}.",
            )
        if parsed and tick <= parsed[-1].tick:
            raise ReplayError(
                "replay_ticks_not_increasing",
                f"replay.shots[{index}] tick {tick} does not come after tick {parsed[-1].tick}.",
            )
        if not (0 <= x < WIDTH and 0 <= y < HEIGHT):
            raise ReplayError(
                "replay_shot_outside_area",
                f"replay.shots[{index}] ({x}, {y}) is outside the {WIDTH}x{HEIGHT} play area.",
            )
        # No more than MAX_SHOTS_PER_SECOND shots inside any one-second window.
        if (
            index >= MAX_SHOTS_PER_SECOND
            and tick - parsed[index - MAX_SHOTS_PER_SECOND].tick < tick_rate
        ):
            raise ReplayError(
                "replay_shot_rate",
                f"replay.shots[{index}]: more than {MAX_SHOTS_PER_SECOND} shots in one second.",
            )
        parsed.append(Shot(tick, x, y))
    return parsed


Columns = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _allowed_columns(
    shots: Sequence[Any], ticks: int, tick_rate: int, *, entry_type: type | None = None
) -> Columns | None:
    """``(ticks, xs, ys)`` when every shot is three integers that ``Round.shoot`` accepts in
    turn (and, with ``entry_type``, of that type); otherwise None.

    The same rules as ``_shots_checked_one_by_one`` and ``Round.shoot``, but each a check over a
    whole column at C speed (``map``, ``min``, ``max``) instead of a Python loop over the shots:
    a 900-shot replay is checked in a tenth of the time. None only says "not all allowed" (or
    "not plain ints"): the callers then go shot by shot, which says which shot and why.
    """
    if not shots:
        return (), (), ()
    if len(shots) > MAX_REPLAY_SHOTS:
        return None
    try:
        if entry_type is not None and set(map(type, shots)) != {entry_type}:
            return None
        if set(map(len, shots)) != {3}:
            return None
    except TypeError:  # an entry without a length
        return None
    tick_col, x_col, y_col = columns = tuple(zip(*shots, strict=True))
    if set(map(type, tick_col)) | set(map(type, x_col)) | set(map(type, y_col)) != {int}:
        return None
    within = (
        min(tick_col) >= 0
        and max(tick_col) < ticks
        and min(x_col) >= 0
        and max(x_col) < WIDTH
        and min(y_col) >= 0
        and max(y_col) < HEIGHT
    )
    increasing = all(map(operator.lt, tick_col, islice(tick_col, 1, None)))
    # Shot i and shot i - MAX_SHOTS_PER_SECOND at least a second apart.
    gaps = map(operator.sub, islice(tick_col, MAX_SHOTS_PER_SECOND, None), tick_col)
    rate = all(map(operator.ge, gaps, repeat(tick_rate)))
    return columns if within and increasing and rate else None  # type: ignore[return-value]


def simulate(
    mode: str, seed: int, tick_rate: int, ticks: int, shots: Iterable[Sequence[int]]
) -> RoundResult:
    """Re-run a round from its seed and shots; what both client and server trust.

    Exactly ``Round.shoot`` shot by shot (the client's own path, pinned by a differential test),
    computed a column at a time when every shot is allowed: a 900-shot round in about a tenth
    of the time. A shot that ``Round.shoot`` refuses is a ``ReplayError``.
    """
    shots = shots if isinstance(shots, list) else list(shots)
    columns = _allowed_columns(shots, ticks, tick_rate)
    return _simulate_given(mode, seed, tick_rate, ticks, shots, columns)


def _simulate_given(
    mode: str,
    seed: int,
    tick_rate: int,
    ticks: int,
    shots: list[Any],
    columns: Columns | None,
) -> RoundResult:
    """``simulate``, given what ``_allowed_columns`` said of the shots."""
    if columns is None or tick_rate <= 0 or ticks <= 0:
        return _simulate_shot_by_shot(mode, seed, tick_rate, ticks, shots)
    return _simulate_columns(target_motion(mode, seed, tick_rate), mode, *columns)


def _simulate_shot_by_shot(
    mode: str, seed: int, tick_rate: int, ticks: int, shots: Iterable[Sequence[int]]
) -> RoundResult:
    game = Round(mode, seed, tick_rate, ticks)
    for tick, x, y in shots:
        if game.shoot(x, y, tick) is None:
            raise ReplayError("replay_invalid_shot", f"shot ({tick}, {x}, {y}) is not allowed.")
    return game.result


def _simulate_columns(
    motion: Motion, mode: str, tick_col: Sequence[int], x_col: Sequence[int], y_col: Sequence[int]
) -> RoundResult:
    """``Round.shoot``'s scoring for shots already known to be allowed, a column at a time."""
    centres_x = _fold_all(motion.x0, motion.vx, motion.lo_x, motion.hi_x, tick_col)
    centres_y = _fold_all(motion.y0, motion.vy, motion.lo_y, motion.hi_y, tick_col)
    dxs = [x * SCALE - cx for x, cx in zip(x_col, centres_x, strict=True)]
    dys = [y * SCALE - cy for y, cy in zip(y_col, centres_y, strict=True)]
    rings: list[int | None]
    if mode == "bullseye":
        rings = list(map(ring_for, dxs, dys))
        hits = [ring is not None for ring in rings]
        points = [0 if ring is None else RING_POINTS[ring - 1] for ring in rings]
    else:
        # square_hit inline: a call per shot costs more than the test itself.
        half = SQUARE_HALF * SCALE
        offsets = zip(dxs, dys, strict=True)
        hits = [-half <= dx <= half and -half <= dy <= half for dx, dy in offsets]
        rings = [1 if hit else None for hit in hits]
        points = _streak_points(hits)
    rows = zip(
        tick_col,
        x_col,
        y_col,
        [dx / SCALE for dx in dxs],
        [dy / SCALE for dy in dys],
        hits,
        rings,
        points,
        strict=True,
    )
    # ShotResult._make without its Python frame per shot (the rows are known to have 8 fields).
    shots = list(map(tuple.__new__, repeat(ShotResult), rows))
    hit_count = sum(hits)
    return RoundResult(sum(points), hit_count, len(shots) - hit_count, shots)


def _streak_points(hits: Iterable[bool]) -> list[int]:
    """``moving_points`` of each hit's streak (0 for a miss), as ``Round.shoot`` counts them."""
    points, streak = [], 0
    for hit in hits:
        if hit:
            streak += 1
            points.append(min(MAX_POINTS_PER_HIT, HIT_POINTS + STREAK_BONUS * (streak - 1)))
        else:
            streak = 0
            points.append(0)
    return points


class Bot:
    """A seeded player with a human-like error and reaction time.

    It aims where the target it saw ``BOT_REACTION_S`` ago would be now had it gone straight on
    (so, like a person, it misses the turn at a wall for a moment), plus a uniform aim error of
    ``BOT_SPREAD`` pixels either way on each axis, and fires every 0.35-0.9 s.
    """

    def __init__(self, seed: int, *, spread: int | None = None) -> None:
        self.seed = seed
        self.spread = spread

    def plan(self, mode: str, seed: int, tick_rate: int, ticks: int) -> list[Shot]:
        """Every shot the bot will fire in the round, in tick order."""
        rng = random.Random(f"bot-{self.seed}")
        motion = target_motion(mode, seed, tick_rate)
        # Wider than the square and close to the bullseye's edge: the bot misses now and then.
        spread = self.spread if self.spread is not None else BOT_SPREAD[mode]
        shots: list[Shot] = []
        tick = rng.randint(tick_rate // 3, tick_rate * 2 // 3)
        lo, hi = (round(s * tick_rate) for s in BOT_REACTION_S)
        while tick < ticks:
            cx, cy = motion.straight_line(tick, rng.randint(lo, hi))
            x = cx // SCALE + rng.randint(-spread, spread)
            y = cy // SCALE + rng.randint(-spread, spread)
            shots.append(Shot(tick, min(max(x, 0), WIDTH - 1), min(max(y, 0), HEIGHT - 1)))
            tick += rng.randint(tick_rate * 35 // 100, tick_rate * 90 // 100)
        return shots


def bot_round(mode: str, seed: int, duration_s: float, *, bot_seed: int | None = None) -> Round:
    """A whole round played by the bot (demo data, tests, benchmarks)."""
    ticks = ticks_for(duration_s)
    game = Round(mode, seed, TICK_RATE, ticks)
    for shot in Bot(seed if bot_seed is None else bot_seed).plan(mode, seed, TICK_RATE, ticks):
        game.shoot(shot.x, shot.y, shot.tick)
    game.advance(ticks)
    return game
