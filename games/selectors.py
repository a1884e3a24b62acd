"""Leaderboard reads: index range scans on LeaderboardEntry, one row per player."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from games.models import LeaderboardEntry, Scope, Score, board_key
from games.services.leaderboards import period_start

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
    *,
    mode: str,
    period: str,
    verified_only: bool,
    at: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Board:
    """The board of the period containing ``at`` (a past day, week or month), else ``now``."""
    if at is not None:
        moment = dt.datetime.combine(at, dt.time(12), tzinfo=dt.UTC)
    else:
        moment = now or timezone.now()
    return Board(mode, period, verified_only, period_start(period, moment))


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


def _key(entry: LeaderboardEntry) -> list[Any]:
    # extra() params skip field adaptation: SQLite needs the datetime as Django stores it.
    played_at = connection.ops.adapt_datetimefield_value(entry.played_at)
    return [entry.neg_points, played_at, entry.score_id]


def _ranked(
    entries: list[LeaderboardEntry], first_position: int, first_rank: int
) -> list[dict[str, Any]]:
    """Rows for a contiguous run of the board starting at ``first_position`` (1-based).

    Competition ranking: equal points share a rank, and the next distinct points value ranks
    at its position (1, 2, 2, 4).
    """
    rows, rank = [], first_rank
    for offset, entry in enumerate(entries):
        if offset and entry.points != entries[offset - 1].points:
            rank = first_position + offset
        rows.append(_row(entry, rank))
    return rows


def leaderboard_top(*, board: Board, limit: int) -> list[dict[str, Any]]:
    entries = list(board.entries().select_related("player", "score").order_by(*_ORDER)[:limit])
    # The top list starts at position 1 with rank 1: no counting needed.
    return _ranked(entries, 1, 1)


def leaderboard_me(*, board: Board, player: User) -> dict[str, Any] | None:
    """The player's rank and the rows around it (``NEIGHBOURS`` either side), or None."""
    related = board.entries().select_related("player", "score")
    mine = related.filter(player=player).first()
    if mine is None:
        return None
    # extra() for the row-value comparison the ORM cannot spell; the SQL is a constant and
    # every value is a bound parameter.
    above_rows = related.extra(where=[_BEFORE], params=_key(mine))  # noqa: S610
    below_rows = related.extra(where=[_AFTER], params=_key(mine))  # noqa: S610
    above = list(above_rows.order_by(*_REVERSED)[:NEIGHBOURS])
    below = list(below_rows.order_by(*_ORDER)[:NEIGHBOURS])
    window = [*reversed(above), mine, *below]
    # The window's first row: its position is 1 + the rows before it; its rank discounts the
    # rows before it with the same points. One index-only range count.
    first = window[0]
    counts = (
        board.entries()
        .extra(where=[_BEFORE], params=_key(first))  # noqa: S610
        .aggregate(
            before=Count("neg_points"),
            tied=Count("neg_points", filter=Q(neg_points=first.neg_points)),
        )
    )
    position = counts["before"] + 1
    rows = _ranked(window, position, position - counts["tied"])
    mine_row = rows[len(above)]
    return {"rank": mine_row["rank"], "points": mine.points, "neighbours": rows}
