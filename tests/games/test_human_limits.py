"""The human-limits model on its own: the bot passes, computed perfect rounds do not."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games import human_limits, rules
from tests.games.factories import perfect_replay


def check(mode: str, seed: int, game: rules.Round) -> set[str]:
    findings = human_limits.human_limits_check(
        mode=mode, seed=seed, tick_rate=rules.TICK_RATE, shots=game.result.shots
    )
    return {finding.code for finding in findings}


@pytest.mark.parametrize("mode", rules.MODES)
@pytest.mark.parametrize("duration_s", [4, 30, 120])
def test_the_bundled_bot_is_within_human_limits_on_every_seed(mode, duration_s):
    for seed in range(40):
        assert check(mode, seed, rules.bot_round(mode, seed, duration_s)) == set(), seed


@pytest.mark.parametrize("mode", rules.MODES)
@pytest.mark.parametrize("per_second", [15, 4])
@pytest.mark.parametrize("duration_s", [4, 30])
def test_a_computed_perfect_round_is_beyond_human_limits(mode, per_second, duration_s):
    for seed in range(10):
        found = check(mode, seed, perfect_replay(mode, seed, duration_s, per_second))
        assert "aim_too_steady" in found, seed
        if per_second == 15:
            assert "shot_gap" in found
        if duration_s == 30:
            assert "centre_ring_ceiling" in found


OFFSETS = [(-14, 9), (11, -17), (19, 4), (-6, -20), (3, 16), (-18, -3)]


def scripted(mode: str, seed: int, duration_s: float, every_ticks: int) -> rules.Round:
    """Shots at the real target with a fixed, human-sized aim error (about 20 px)."""
    game = rules.Round(mode, seed, rules.TICK_RATE, rules.ticks_for(duration_s))
    for n, tick in enumerate(range(0, game.ticks, every_ticks)):
        x, y = game.motion.at(tick)
        dx, dy = OFFSETS[n % len(OFFSETS)]
        game.shoot(x // rules.SCALE + dx, y // rules.SCALE + dy, tick)
    return game


def test_fifteen_a_second_breaks_the_shot_gap_rule_even_when_aim_is_human():
    found = check("moving", 3, scripted("moving", 3, 10, 8))
    assert found == {"shot_gap"}


def test_ten_shots_a_second_is_the_fastest_rate_that_is_not_a_short_gap():
    every = round(human_limits.MIN_SHOT_GAP_S * rules.TICK_RATE)  # 12 ticks: 100 ms
    assert "shot_gap" not in check("moving", 3, scripted("moving", 3, 10, every))
    assert "shot_gap" in check("moving", 3, scripted("moving", 3, 10, every - 1))


def test_a_script_that_reacts_to_every_bounce_at_once_is_caught_even_with_a_human_spread():
    """Aim error of a good human (about 20 px) but aimed at the real, turned target."""
    found = check("moving", 8, scripted("moving", 8, 300, 30))
    assert found == {"bounce_reaction"}


def test_aim_error_allowed_grows_with_target_speed():
    assert human_limits.aim_sigma(0) == human_limits.AIM_SIGMA_PX
    assert human_limits.aim_sigma(100) < human_limits.aim_sigma(300) < human_limits.aim_sigma(600)


def test_the_binomial_tail_matches_a_direct_sum():
    n, p = 30, 0.2
    for k in (0, 1, 6, 15, 30):
        direct = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))
        assert human_limits.binomial_tail(k, n, p) == pytest.approx(direct, rel=1e-9)
    assert human_limits.binomial_tail(31, 30, 0.2) == 0.0


def test_the_straight_line_guess_is_the_real_position_when_no_bounce_happened():
    motion = rules.target_motion("bullseye", 12)
    for tick in range(0, 3000, 7):
        guess = motion.straight_line(tick, 18)
        real = motion.at(tick)
        # Either no bounce in the last 18 ticks (identical) or a bounce (they differ).
        bounced = any(
            rules._direction(motion.x0 + motion.vx * t, motion.lo_x, motion.hi_x)
            != rules._direction(motion.x0 + motion.vx * (t + 1), motion.lo_x, motion.hi_x)
            or rules._direction(motion.y0 + motion.vy * t, motion.lo_y, motion.hi_y)
            != rules._direction(motion.y0 + motion.vy * (t + 1), motion.lo_y, motion.hi_y)
            for t in range(max(tick - 18, 0), tick)
        )
        assert (guess != real) == bounced, tick


def binomial_tail_in_full(successes: int, trials: int, p: float) -> float:
    """Every term summed, as before the early stop."""
    if successes <= 0:
        return 1.0
    if successes > trials:
        return 0.0
    total = 0.0
    for k in range(successes, trials + 1):
        log_term = (
            math.lgamma(trials + 1)
            - math.lgamma(k + 1)
            - math.lgamma(trials - k + 1)
            + k * math.log(p)
            + (trials - k) * math.log1p(-p)
        )
        total += math.exp(log_term)
    return min(total, 1.0)


@settings(max_examples=300, deadline=None)
@given(trials=st.integers(0, 1800), share=st.floats(0, 1.2), p=st.floats(0.01, 0.99))
def test_the_binomial_tail_stops_early_with_the_very_float_of_the_full_sum(trials, share, p):
    successes = round(trials * share)
    assert human_limits.binomial_tail(successes, trials, p) == binomial_tail_in_full(
        successes, trials, p
    )
