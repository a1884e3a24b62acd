"""The server's numpy re-run of a replay and the human limits over its columns, pinned to the
pure-Python rules they stand in for: the same shots, points, errors and findings."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games import human_limits, replay_columns, rules
from games.rules import ReplayError
from tests.games.factories import perfect_replay
from tests.games.test_rules import increasing_shots, valid_replay, wild_entry


def outcome(run):
    try:
        return run()
    except ReplayError as error:
        return (error.code, error.message)


def rerun_rows(replay: dict, mode: str, duration_s: float):
    replayed = replay_columns.replay_rerun(replay, mode=mode, duration_s=duration_s)
    return replayed.rows(), (replayed.points, replayed.hits, replayed.misses)


def replay_run_rows(replay: dict, mode: str, duration_s: float):
    result = rules.replay_run(replay, mode=mode, duration_s=duration_s)
    return result.shots, (result.points, result.hits, result.misses)


@settings(max_examples=300, deadline=None)
@given(
    mode=st.sampled_from(rules.MODES),
    seed=st.integers(0, rules.MAX_SEED),
    entries=st.lists(wild_entry, max_size=30),
    gaps=st.lists(st.integers(0, 30), max_size=90),
    points=st.lists(st.tuples(st.integers(-2, 801), st.integers(-2, 601)), max_size=90),
    wild=st.booleans(),
)
def test_the_numpy_rerun_gives_what_replay_run_gives_shot_for_shot_and_error_for_error(
    mode, seed, entries, gaps, points, wild
):
    shots = entries if wild else increasing_shots(gaps, points)
    replay = valid_replay(seed=seed, ticks=2400, shots=shots)
    assert outcome(lambda: rerun_rows(replay, mode, 20)) == outcome(
        lambda: replay_run_rows(replay, mode, 20)
    )


@pytest.mark.parametrize("mode", rules.MODES)
@pytest.mark.parametrize("per_second", [15, 4])
def test_a_whole_round_takes_the_array_path_and_matches_the_rules(mode, per_second):
    for seed in range(5):
        replay = perfect_replay(mode, seed, 60, per_second).replay()
        # Some of these hit, some miss: every scoring branch (rings, streaks) is compared.
        replay["shots"] = [
            [t, min(max(x + t % 200 - 100, 0), 799), y] for t, x, y in replay["shots"]
        ]
        assert replay_columns._allowed_columns(replay["shots"], replay["ticks"], 120) is not None
        replayed = replay_columns.replay_rerun(replay, mode=mode, duration_s=60)
        result = rules.replay_run(replay, mode=mode, duration_s=60)
        assert replayed.rows() == result.shots
        assert (replayed.points, replayed.hits, replayed.misses) == (
            result.points,
            result.hits,
            result.misses,
        )
        assert 0 < result.hits < len(result.shots)
        assert replayed.details(1000) == [shot.as_detail() for shot in result.shots]
        assert replayed.details(10) == [shot.as_detail() for shot in result.shots[:10]]


def test_integers_beyond_64_bits_and_booleans_are_refused_as_replay_run_refuses_them():
    for shot in ([2**70, 1, 1], [0, True, 1], [0, 1.0, 1]):
        replay = valid_replay(shots=[shot])
        assert outcome(lambda r=replay: rerun_rows(r, "moving", 10)) == outcome(
            lambda r=replay: replay_run_rows(r, "moving", 10)
        )
        assert isinstance(outcome(lambda r=replay: rerun_rows(r, "moving", 10)), tuple)


# --- Human limits: the rules as the model states them, shot by shot ---------------------


def findings_shot_by_shot(mode: str, seed: int, shots: list[rules.ShotResult]) -> list:
    """``human_limits_check`` written plainly from its docstring, one shot at a time."""
    tick_rate = rules.TICK_RATE
    motion = rules.target_motion(mode, seed, tick_rate)
    found = []
    ticks = [shot.tick for shot in shots]
    short = sum(1 for a, b in itertools.pairwise(ticks) if b - a < hl.MIN_SHOT_GAP_S * tick_rate)
    allowed = hl.SHORT_GAPS_ALLOWED + len(ticks) // hl.SHORT_GAPS_PER_SHOTS
    if short > allowed:
        found.append(("shot_gap", short, allowed))
    lag = round(hl.REACTION_S * tick_rate)
    after_bounce = followed = 0
    for shot in shots:
        if motion.directions(shot.tick) == motion.directions(max(shot.tick - lag, 0)):
            continue
        aim = (shot.x * rules.SCALE, shot.y * rules.SCALE)
        real = motion.at(shot.tick)
        guess = motion.straight_line(shot.tick, lag)
        if math.dist(real, guess) < hl.MIN_TURN_PX * rules.SCALE:
            continue
        after_bounce += 1
        followed += math.dist(aim, real) < math.dist(aim, guess)
    if after_bounce >= hl.MIN_SAMPLE:
        chance = hl.binomial_tail(followed, after_bounce, hl.FOLLOW_CHANCE)
        if chance < hl.ALPHA:
            found.append(("bounce_reaction", followed, after_bounce))
    distances = [math.hypot(shot.dx, shot.dy) for shot in shots]
    radius = hl.DEAD_ON * hl.aim_sigma(hl.target_speed(motion, tick_rate))
    dead_on = sum(1 for d in distances if d < radius)
    p0 = 1 - math.exp(-(hl.DEAD_ON**2) / 2)
    if hl.binomial_tail(dead_on, len(distances), p0) < hl.ALPHA:
        found.append(("aim_too_steady", dead_on, len(distances)))
    centre = sum(1 for d in distances if d <= hl.CENTRE_RADIUS_PX)
    if len(distances) >= hl.CENTRE_MIN_SHOTS and centre > hl.CENTRE_CEILING * len(distances):
        found.append(("centre_ring_ceiling", centre, len(distances)))
    return found


hl = human_limits


def findings_on_columns(mode: str, seed: int, game: rules.Round) -> list:
    replayed = replay_columns.replay_rerun(game.replay(), mode=mode, duration_s=game.ticks / 120)
    findings = hl.human_limits_check(mode=mode, seed=seed, tick_rate=120, shots=replayed)
    # The figures each finding's sentence starts with, in the reference's terms.
    figures = []
    for finding in findings:
        numbers = [int(word) for word in finding.message.split()[:5] if word.isdigit()]
        if finding.code == "shot_gap":
            allowed = int(finding.message.split("at most ")[1].split()[0])
            figures.append((finding.code, numbers[0], allowed))
        else:
            figures.append((finding.code, numbers[0], numbers[1]))
    return figures


def test_human_limits_over_columns_say_what_the_rules_say_shot_by_shot():
    rounds = []
    for mode, seed in itertools.product(rules.MODES, range(6)):
        rounds.append((mode, seed, rules.bot_round(mode, seed, 60)))
        rounds.append((mode, seed, perfect_replay(mode, seed, 30, 15)))
        rounds.append((mode, seed, perfect_replay(mode, seed, 120, 4)))
    flagged = 0
    for mode, seed, game in rounds:
        expected = findings_shot_by_shot(mode, seed, game.result.shots)
        assert findings_on_columns(mode, seed, game) == expected, (mode, seed)
        flagged += bool(expected)
    assert 0 < flagged < len(rounds)


@settings(max_examples=150, deadline=None)
@given(
    mode=st.sampled_from(rules.MODES),
    seed=st.integers(0, 10_000),
    gaps=st.lists(st.integers(8, 40), min_size=0, max_size=200),
    spread=st.integers(0, 40),
)
def test_human_limits_over_columns_agree_on_any_playable_round(mode, seed, gaps, spread):
    game = rules.Round(mode, seed, rules.TICK_RATE, rules.ticks_for(40))
    for n, tick in enumerate(itertools.accumulate(gaps)):
        x, y = game.motion.at(tick)
        offset = (n * 7919) % (2 * spread + 1) - spread
        game.shoot(x // rules.SCALE + offset, y // rules.SCALE - offset // 2, tick)
    expected = findings_shot_by_shot(mode, seed, game.result.shots)
    assert findings_on_columns(mode, seed, game) == expected


def test_a_list_of_shot_results_is_read_as_the_same_columns():
    game = perfect_replay("moving", 3, 30, 15)
    as_list = hl.human_limits_check(mode="moving", seed=3, tick_rate=120, shots=game.result.shots)
    columns = replay_columns.ReplayedShots.from_shots(game.result.shots)
    assert hl.human_limits_check(mode="moving", seed=3, tick_rate=120, shots=columns) == as_list
    assert columns.rows() == game.result.shots


@settings(max_examples=200, deadline=None)
@given(
    mode=st.sampled_from(rules.MODES),
    seed=st.integers(0, rules.MAX_SEED),
    ticks=st.lists(st.integers(0, 432_000), max_size=50),
    lag=st.integers(0, 200),
)
def test_turned_says_what_comparing_directions_tick_by_tick_says(mode, seed, ticks, lag):
    motion = rules.target_motion(mode, seed)
    expected = [motion.directions(tick) != motion.directions(max(tick - lag, 0)) for tick in ticks]
    assert hl._turned(motion, np.array(ticks, dtype=np.int64), lag).tolist() == expected
