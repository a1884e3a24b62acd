"""Leaderboard reads: index range scans on LeaderboardEntry, one row per player."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from games.models import LeaderboardEntry, Scope, Score, board_key
from games.services import period_start

NEIGHBOURS = 5


@dataclass(frozen=True)
class Board:
    mode: str
    period: str
    verified_only: bool
    start: dt.date

    @property
    def scope(self) -> str:
        return Scope.VERIFIED if self.verified_only else Scope.ANY

    @property
    def key(self) -> str:
        return board_key(self.mode, self.scope, self.period, self.start)

    def entries(self) -> QuerySet[LeaderboardEntry]:
        return LeaderboardEntry.objects.filter(board=self.key)


def board_for(
    *, mode: str, period: str, verified_only: bool, now: dt.datetime | None = None
) -> Board:
    return Board(mode, period, verified_only, period_start(period, now or timezone.now()))


# Board order: points down, then the earlier score, then the lower id (a total order).
_ORDER = ["neg_points", "played_at", "score_id"]
_REVERSED = ["-neg_points", "-played_at", "-score_id"]
# Row-value comparison: the neighbours are an index range scan next to the caller's row.
# Qualified: with select_related, games_score has a played_at too.
_KEY = '("games_leaderboardentry"."neg_points", "games_leaderboardentry"."played_at", '
_KEY += '"games_leaderboardentry"."score_id")'
_BEFORE = _KEY + " < (%s, %s, %s)"
_AFTER = _KEY + " > (%s, %s, %s)"


def _row(entry: LeaderboardEntry, rank: int) -> dict[str, Any]:
    score: Score = entry.score
    return {
        "rank": rank,
        "player": entry.player.get_username(),
        "points": entry.points,
        "hits": score.hits,
        "accuracy": score.accuracy,
        "played_at": entry.played_at,
        "verified": score.verified,
    }


def _ranked(entries: list[LeaderboardEntry], first_rank_by_points: dict[int, int]) -> list[dict]:
    """Competition ranking: equal points share a rank and the next distinct rank skips."""
    return [_row(entry, first_rank_by_points[entry.points]) for entry in entries]


def _ranks_for(board: Board, points: set[int]) -> dict[int, int]:
    """Rank of each points value: 1 + the number of players with more points (one query)."""
    if not points:
        return {}
    ordered = sorted(points)
    # Only rows above the lowest value can count: an index range (index-only), not the board.
    counts = (
        board.entries()
        .filter(neg_points__lt=-ordered[0])
        .aggregate(
            **{
                f"p{i}": Count("neg_points", filter=Q(neg_points__lt=-value))
                for i, value in enumerate(ordered)
            }
        )
    )
    return {value: counts[f"p{i}"] + 1 for i, value in enumerate(ordered)}


def leaderboard_top(*, board: Board, limit: int) -> list[dict[str, Any]]:
    entries = list(board.entries().select_related("player", "score").order_by(*_ORDER)[:limit])
    # The top list starts at rank 1, so ranks follow from positions without counting.
    first_rank: dict[int, int] = {}
    for position, entry in enumerate(entries, start=1):
        first_rank.setdefault(entry.points, position)
    return _ranked(entries, first_rank)


def leaderboard_me(*, board: Board, player: AbstractBaseUser) -> dict[str, Any] | None:
    """The player's rank and the rows around it (``NEIGHBOURS`` either side), or None."""
    related = board.entries().select_related("player", "score")
    mine = related.filter(player=player).first()
    if mine is None:
        return None
    # extra() params skip field adaptation: SQLite needs the datetime as Django stores it.
    played_at = connection.ops.adapt_datetimefield_value(mine.played_at)
    position = [mine.neg_points, played_at, mine.score_id]
    # extra() for the row-value comparison the ORM cannot spell; the SQL is a constant and
    # every value is a bound parameter.
    above = related.extra(where=[_BEFORE], params=position)  # noqa: S610
    below = related.extra(where=[_AFTER], params=position)  # noqa: S610
    above = list(above.order_by(*_REVERSED)[:NEIGHBOURS])
    below = list(below.order_by(*_ORDER)[:NEIGHBOURS])
    window = [*reversed(above), mine, *below]
    ranks = _ranks_for(board, {entry.points for entry in window})
    return {"rank": ranks[mine.points], "points": mine.points, "neighbours": _ranked(window, ranks)}
