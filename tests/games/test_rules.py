"""The pure rules module: no display, no database."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games import rules
from games.rules import SCALE, ReplayError, Round


def centre_pixels(game: Round, tick: int) -> tuple[int, int]:
    x, y = game.motion.at(tick)
    return x // SCALE, y // SCALE


def test_the_rules_module_imports_neither_pygame_nor_django_nor_numpy():
    code = (
        "import sys, games.rules; "
        "bad = {'pygame', 'django', 'numpy'} & {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_same_seed_gives_the_same_target_path_and_another_seed_does_not():
    first = rules.target_motion("moving", 7)
    assert rules.target_motion("moving", 7) == first
    assert rules.target_motion("moving", 8) != first


@pytest.mark.parametrize("mode", rules.MODES)
def test_the_target_stays_inside_the_play_area_and_bounces_off_the_walls(mode):
    motion = rules.target_motion(mode, 3)
    half = rules.target_half_extent(mode) * SCALE
    xs, ys = [], []
    for tick in range(rules.TICK_RATE * 30):
        x, y = motion.at(tick)
        assert half <= x <= rules.WIDTH * SCALE - half
        assert half <= y <= rules.HEIGHT * SCALE - half
        xs.append(x)
        ys.append(y)
    steps = [b - a for a, b in itertools.pairwise(xs)]
    # Moving right and moving left both happen: the wall turned it round.
    assert any(step > 0 for step in steps) and any(step < 0 for step in steps)


def test_a_bounce_reflects_the_overshoot_back_inside():
    assert rules._reflect(105, 0, 100) == 95
    assert rules._reflect(-5, 0, 100) == 5
    assert rules._reflect(205, 0, 100) == 5


def test_interpolated_positions_lie_between_whole_ticks():
    motion = rules.target_motion("bullseye", 11)
    x1, y1 = motion.at_pixels(10)
    x2, y2 = motion.at_pixels(11)
    xm, ym = motion.at_pixels(10.5)
    assert xm == pytest.approx((x1 + x2) / 2)
    assert ym == pytest.approx((y1 + y2) / 2)


@pytest.mark.parametrize(
    ("offset_px", "ring", "points"),
    [
        (0, 1, 100),
        (10, 1, 100),
        (11, 2, 80),
        (25, 3, 60),
        (35, 4, 50),
        (45, 5, 40),
        (55, 6, 30),
        (70, 7, 20),
        (71, None, 0),
    ],
)
def test_each_bullseye_ring_scores_its_points_from_the_centre_out(offset_px, ring, points):
    game = Round("bullseye", 5, rules.TICK_RATE, rules.TICK_RATE * 10)
    x, y = game.motion.at(0)
    game.motion = rules.Motion(x - x % SCALE, y - y % SCALE, 0, 0, 0, 10**9, 0, 10**9)
    cx, cy = centre_pixels(game, 0)
    shot = game.shoot(cx + offset_px, cy, 0)
    assert shot.ring == ring
    assert shot.points == points
    assert shot.hit is (ring is not None)


def test_ring_colours_run_red_white_blue_yellow_green_black_orange_from_the_centre():
    assert rules.RING_COLOURS == ("red", "white", "blue", "yellow", "green", "black", "orange")
    assert rules.RING_POINTS == (100, 80, 60, 50, 40, 30, 20)


def test_moving_hits_earn_fifty_plus_a_streak_bonus_capped_at_a_hundred():
    game = Round("moving", 9, rules.TICK_RATE, rules.TICK_RATE * 60)
    earned = []
    for n in range(8):
        tick = n * 10
        cx, cy = centre_pixels(game, tick)
        earned.append(game.shoot(cx, cy, tick).points)
    assert earned == [50, 60, 70, 80, 90, 100, 100, 100]
    # A miss breaks the streak.
    cx, cy = centre_pixels(game, 100)
    miss = game.shoot((cx + 200) % rules.WIDTH, cy, 100)
    assert not miss.hit and miss.ring is None
    cx, cy = centre_pixels(game, 110)
    assert game.shoot(cx, cy, 110).points == 50
    assert game.result.hits == 9 and game.result.misses == 1
    assert game.result.points == sum(earned) + 50


def test_the_square_edge_is_a_hit_and_one_pixel_beyond_is_a_miss():
    game = Round("moving", 4, rules.TICK_RATE, rules.TICK_RATE)
    x, y = game.motion.at(0)
    game.motion = rules.Motion(x - x % SCALE, y - y % SCALE, 0, 0, 0, 10**9, 0, 10**9)
    cx, cy = centre_pixels(game, 0)
    assert game.shoot(cx + rules.SQUARE_HALF, cy - rules.SQUARE_HALF, 0).hit
    assert not game.shoot(cx + rules.SQUARE_HALF + 1, cy, 1).hit


def test_max_points_bound_every_possible_round():
    assert rules.max_points("bullseye", 3) == 300
    assert rules.max_points("moving", 3) == 50 + 60 + 70
    assert rules.max_points("moving", 8) == 50 + 60 + 70 + 80 + 90 + 100 * 3
    assert rules.max_points("moving", 0) == 0
    for hits in range(30):
        assert rules.max_points("moving", hits) <= rules.MAX_POINTS_PER_HIT * hits
    assert rules.min_points("bullseye", 3) == 60
    assert rules.min_points("moving", 3) == 150


def test_a_hit_flashes_the_target_for_half_a_second():
    game = Round("moving", 2, rules.TICK_RATE, rules.TICK_RATE * 5)
    assert not game.flashing(0)
    cx, cy = centre_pixels(game, 10)
    game.shoot(cx, cy, 10)
    assert game.flashing(10)
    assert game.flashing(10 + rules.TICK_RATE // 2 - 1)
    assert not game.flashing(10 + rules.TICK_RATE // 2)


def test_the_round_timer_counts_down_and_refuses_shots_after_the_end():
    game = Round("bullseye", 1, rules.TICK_RATE, rules.TICK_RATE * 2)
    assert game.seconds_left == 2
    game.advance(rules.TICK_RATE // 2)
    assert game.seconds_left == 1.5
    game.advance(10**6)
    assert game.finished and game.seconds_left == 0
    assert game.shoot(10, 10) is None


def test_one_shot_per_tick_and_only_inside_the_play_area():
    game = Round("bullseye", 1, rules.TICK_RATE, rules.TICK_RATE * 2)
    assert game.shoot(10, 10, 5) is not None
    assert game.shoot(10, 10, 5) is None
    assert game.shoot(rules.WIDTH, 10, 6) is None
    assert game.shoot(-1, 10, 7) is None
    assert len(game.replay_shots) == 1


@pytest.mark.parametrize("mode", rules.MODES)
def test_a_bot_round_replays_to_exactly_the_same_result(mode):
    game = rules.bot_round(mode, 1234, 20)
    replay = game.replay()
    shots = rules.replay_validate(replay, duration_s=20)
    replayed = rules.simulate(mode, replay["seed"], replay["tick_rate"], replay["ticks"], shots)
    assert (replayed.points, replayed.hits, replayed.misses) == (
        game.result.points,
        game.result.hits,
        game.result.misses,
    )
    assert game.result.hits > 0 and game.result.misses > 0
    assert replayed.shots == game.result.shots


def test_the_bot_is_seeded_and_plays_at_a_human_rate():
    first = rules.Bot(5).plan("moving", 5, rules.TICK_RATE, rules.TICK_RATE * 30)
    assert rules.Bot(5).plan("moving", 5, rules.TICK_RATE, rules.TICK_RATE * 30) == first
    assert rules.Bot(6).plan("moving", 5, rules.TICK_RATE, rules.TICK_RATE * 30) != first
    assert 30 <= len(first) <= 30 * 3


def test_a_replay_with_a_forged_seed_does_not_reproduce_the_score():
    game = rules.bot_round("bullseye", 77, 30)
    forged = rules.simulate("bullseye", 78, rules.TICK_RATE, game.ticks, game.replay_shots)
    assert (forged.points, forged.hits) != (game.result.points, game.result.hits)


def valid_replay(**changes) -> dict:
    replay = {"seed": 1, "tick_rate": 120, "ticks": 1200, "shots": [[0, 1, 1], [5, 799, 599]]}
    replay.update(changes)
    return replay


@pytest.mark.parametrize(
    ("replay", "code"),
    [
        ("nope", "replay_malformed"),
        (valid_replay(extra=1), "replay_malformed"),
        (valid_replay(seed=-1), "replay_malformed"),
        (valid_replay(seed="1"), "replay_malformed"),
        (valid_replay(seed=True), "replay_malformed"),
        (valid_replay(tick_rate=60), "replay_tick_rate"),
        (valid_replay(tick_rate=120.0), "replay_tick_rate"),
        (valid_replay(ticks=1199), "replay_duration_mismatch"),
        (valid_replay(shots={"a": 1}), "replay_malformed"),
        (valid_replay(shots=[[1, 2]]), "replay_malformed"),
        (valid_replay(shots=[[1, 2.5, 3]]), "replay_malformed"),
        (valid_replay(shots=[[1200, 2, 3]]), "replay_tick_out_of_round"),
        (valid_replay(shots=[[-1, 2, 3]]), "replay_tick_out_of_round"),
        (valid_replay(shots=[[5, 2, 3], [5, 2, 3]]), "replay_ticks_not_increasing"),
        (valid_replay(shots=[[6, 2, 3], [5, 2, 3]]), "replay_ticks_not_increasing"),
        (valid_replay(shots=[[1, 800, 3]]), "replay_shot_outside_area"),
        (valid_replay(shots=[[1, 3, -1]]), "replay_shot_outside_area"),
        (valid_replay(shots=[[t, 3, 3] for t in range(16)]), "replay_shot_rate"),
        (
            valid_replay(ticks=120 * 3600, shots=[[t * 9, 1, 1] for t in range(1801)]),
            "replay_too_large",
        ),
    ],
)
def test_each_broken_replay_rule_has_its_own_code(replay, code):
    duration = replay["ticks"] // 120 if isinstance(replay, dict) else 10
    with pytest.raises(ReplayError) as caught:
        rules.replay_validate(
            replay, duration_s=duration if code != "replay_duration_mismatch" else 10
        )
    assert caught.value.code == code


def test_fifteen_shots_a_second_is_the_most_a_replay_may_hold():
    shots = [[t * 8, 3, 3] for t in range(40)]  # 15 per second exactly
    assert len(rules.replay_validate(valid_replay(shots=shots), duration_s=10)) == 40


def test_the_gun_cools_down_above_fifteen_shots_a_second_and_empties_at_the_replay_cap():
    game = Round("bullseye", 1, rules.TICK_RATE, rules.TICK_RATE * 3600)
    fired = [game.shoot(5, 5, tick) for tick in range(rules.TICK_RATE)]
    assert sum(shot is not None for shot in fired) == rules.MAX_SHOTS_PER_SECOND
    # A second later the gun fires again.
    assert game.shoot(5, 5, rules.TICK_RATE) is not None
    tick = rules.TICK_RATE
    while len(game.replay_shots) < rules.MAX_REPLAY_SHOTS:
        tick += 8
        assert game.shoot(5, 5, tick) is not None
    assert game.shoot(5, 5, tick + 200) is None


@settings(max_examples=200, deadline=None)
@given(
    mode=st.sampled_from(rules.MODES),
    seed=st.integers(0, rules.MAX_SEED),
    duration=st.integers(1, 20),
    clicks=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 799), st.integers(0, 599)), max_size=80
    ),
)
def test_any_round_a_player_can_play_replays_exactly_and_passes_the_plausibility_bounds(
    mode, seed, duration, clicks
):
    ticks = rules.ticks_for(duration)
    game = Round(mode, seed, rules.TICK_RATE, ticks)
    for tick, x, y in sorted(clicks):
        game.shoot(x, y, tick % ticks)  # refused shots are simply not recorded
    replay = game.replay()
    shots = rules.replay_validate(replay, duration_s=duration)
    again = rules.simulate(mode, seed, rules.TICK_RATE, ticks, shots)
    result = game.result
    assert (again.points, again.hits, again.misses) == (result.points, result.hits, result.misses)
    assert rules.min_points(mode, result.hits) <= result.points
    assert result.points <= rules.max_points(mode, result.hits)
    assert result.hits + result.misses <= rules.MAX_SHOTS_PER_SECOND * duration


# The server's column-at-a-time paths against the shot-by-shot rules they must equal.

wild_entry = st.one_of(
    st.tuples(st.integers(-5, 2500), st.integers(-3, 803), st.integers(-3, 603)).map(list),
    st.lists(st.integers(0, 50), max_size=4),
    st.lists(
        st.one_of(st.booleans(), st.floats(0, 9), st.text(max_size=1)), min_size=3, max_size=3
    ),
    st.just("1,2,3"),
    st.just(None),
)


def increasing_shots(gaps: list[int], points: list[tuple[int, int]]) -> list[list[int]]:
    ticks = list(itertools.accumulate(gaps))
    return [[tick, x, y] for tick, (x, y) in zip(ticks, points, strict=False)]


@settings(max_examples=300, deadline=None)
@given(
    mode=st.sampled_from(rules.MODES),
    seed=st.integers(0, rules.MAX_SEED),
    ticks=st.integers(1, 2400),
    # Mostly allowed shots (the column path); a short gap, a tick past the end or a point off
    # the area now and then sends a round shot by shot.
    gaps=st.lists(st.integers(1, 30), max_size=90),
    points=st.lists(st.tuples(st.integers(-2, 801), st.integers(-2, 601)), max_size=90),
)
def test_simulate_gives_exactly_what_round_shoot_gives_shot_by_shot(
    mode, seed, ticks, gaps, points
):
    shots = increasing_shots(gaps, points)

    def outcome(simulate):
        try:
            return simulate(mode, seed, rules.TICK_RATE, ticks, shots)
        except ReplayError as error:
            return (error.code, error.message)

    assert outcome(rules.simulate) == outcome(rules._simulate_shot_by_shot)


@pytest.mark.parametrize("mode", rules.MODES)
def test_a_fifteen_a_second_round_takes_the_column_path_and_matches_shot_by_shot(mode):
    ticks = rules.ticks_for(60)
    shots = [[tick, 100 + tick % 600, 50 + tick % 500] for tick in range(0, ticks, 8)]
    assert len(shots) == 900
    assert rules._allowed_columns(shots, ticks, rules.TICK_RATE, entry_type=list) is not None
    fast = rules.simulate(mode, 5, rules.TICK_RATE, ticks, shots)
    assert fast == rules._simulate_shot_by_shot(mode, 5, rules.TICK_RATE, ticks, shots)
    assert fast.hits > 0 and fast.misses > 0


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(wild_entry, max_size=40),
    gaps=st.lists(st.integers(0, 30), max_size=60),
    points=st.lists(st.tuples(st.integers(-2, 801), st.integers(-2, 601)), max_size=60),
    wild=st.booleans(),
)
def test_replay_validate_says_what_the_rule_by_rule_check_says(entries, gaps, points, wild):
    # Wild entries break some rule almost always; increasing ones mostly pass (the fast path).
    shots = entries if wild else increasing_shots(gaps, points)
    replay = valid_replay(ticks=2400, shots=shots)

    def outcome(check):
        try:
            return check()
        except ReplayError as error:
            return (error.code, error.message)

    assert outcome(lambda: rules.replay_validate(replay, duration_s=20)) == outcome(
        lambda: rules._shots_checked_one_by_one(shots, 2400, rules.TICK_RATE)
    )


@settings(max_examples=200, deadline=None)
@given(
    mode=st.sampled_from(rules.MODES),
    entries=st.lists(wild_entry, max_size=30),
    gaps=st.lists(st.integers(1, 30), max_size=60),
    points=st.lists(st.tuples(st.integers(-2, 801), st.integers(-2, 601)), max_size=60),
    wild=st.booleans(),
)
def test_replay_run_is_simulate_of_replay_validate(mode, entries, gaps, points, wild):
    replay = valid_replay(ticks=2400, shots=entries if wild else increasing_shots(gaps, points))

    def outcome(check):
        try:
            return check()
        except ReplayError as error:
            return (error.code, error.message)

    def in_two_steps():
        shots = rules.replay_validate(replay, duration_s=20)
        return rules.simulate(mode, replay["seed"], replay["tick_rate"], replay["ticks"], shots)

    assert outcome(lambda: rules.replay_run(replay, mode=mode, duration_s=20)) == outcome(
        in_two_steps
    )
