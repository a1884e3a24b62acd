"""Writes for games: registration, score submission (with replay check), flags, leaderboards."""

from .leaderboards import (
    ALL_TIME_START,
    leaderboard_offer,
    leaderboard_rebuild,
    leaderboard_rebuild_player,
    period_start,
)
from .players import player_register
from .rounds import round_check_request, round_issue
from .scores import (
    PLAYED_AT_FUTURE_SKEW,
    PLAYED_AT_MAX_AGE,
    score_check_plausible,
    score_delete,
    score_flag,
    score_review,
    score_submit,
    submission_digest,
)

__all__ = [
    "ALL_TIME_START",
    "PLAYED_AT_FUTURE_SKEW",
    "PLAYED_AT_MAX_AGE",
    "leaderboard_offer",
    "leaderboard_rebuild",
    "leaderboard_rebuild_player",
    "period_start",
    "player_register",
    "round_check_request",
    "round_issue",
    "score_check_plausible",
    "score_delete",
    "score_flag",
    "score_review",
    "score_submit",
    "submission_digest",
]
