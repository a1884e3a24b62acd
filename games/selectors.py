"""Leaderboard reads: index range scans on LeaderboardEntry, one row per player."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from games.models import LeaderboardEntry, Scope, Score
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

    def entries(self) -> QuerySet[LeaderboardEntry]:
        return LeaderboardEntry.objects.filter(
            mode=self.mode, scope=self.scope, period=self.period, period_start=self.start
        )


def board_for(
    *, mode: str, period: str, verified_only: bool, now: dt.datetime | None = None
) -> Board:
    return Board(mode, period, verified_only, period_start(period, now or timezone.now()))


# Board order: points down, then the earlier score, then the lower id (a total order).
_ORDER = ["-points", "played_at", "score_id"]


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
    # Only rows above the lowest value can count: an index range, not the whole board.
    counts = (
        board.entries()
        .filter(points__gt=ordered[0])
        .aggregate(
            **{f"p{i}": Count("id", filter=Q(points__gt=value)) for i, value in enumerate(ordered)}
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
    above = list(
        related.filter(
            Q(points__gt=mine.points)
            | Q(points=mine.points, played_at__lt=mine.played_at)
            | Q(points=mine.points, played_at=mine.played_at, score_id__lt=mine.score_id)
        ).order_by("points", "-played_at", "-score_id")[:NEIGHBOURS]
    )
    below = list(
        related.filter(
            Q(points__lt=mine.points)
            | Q(points=mine.points, played_at__gt=mine.played_at)
            | Q(points=mine.points, played_at=mine.played_at, score_id__gt=mine.score_id)
        ).order_by(*_ORDER)[:NEIGHBOURS]
    )
    window = [*reversed(above), mine, *below]
    ranks = _ranks_for(board, {entry.points for entry in window})
    return {"rank": ranks[mine.points], "points": mine.points, "neighbours": _ranked(window, ranks)}
