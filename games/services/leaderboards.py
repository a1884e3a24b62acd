"""Leaderboard rows: each player's best score on each board, kept in step with the scores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import QuerySet

from games.models import RANKED_REVIEW_STATUSES, LeaderboardEntry, Period, Scope, Score, board_key

ALL_TIME_START = dt.date(1970, 1, 1)


def period_start(period: str, moment: dt.datetime) -> dt.date:
    """The first day (UTC) of the board period a moment falls in."""
    day = moment.astimezone(dt.UTC).date()
    if period == Period.DAY:
        return day
    if period == Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    return ALL_TIME_START


BOARD_PERIODS = (Period.ALL, Period.DAY, Period.WEEK, Period.MONTH)


def _board_keys(*, mode: str, played_at: dt.datetime, verified: bool) -> list[str]:
    scopes = [Scope.ANY, Scope.VERIFIED] if verified else [Scope.ANY]
    return [
        board_key(mode, scope, period, period_start(period, played_at))
        for scope in scopes
        for period in BOARD_PERIODS
    ]


def _entry(
    *, board: str, player_id: int, score_id: int, points: int, played_at: dt.datetime
) -> LeaderboardEntry:
    return LeaderboardEntry(
        board=board,
        player_id=player_id,
        score_id=score_id,
        points=points,
        neg_points=-points,
        played_at=played_at,
    )


def leaderboard_offer(*, score: Score) -> None:
    """Put a new score on each board where it beats its player's current best.

    Call inside the score's transaction: the player's row is locked, so one player's offers
    queue here and their board rows never race.
    """
    if not score.ranked:
        return
    get_user_model().objects.select_for_update().filter(pk=score.player_id).order_by().exists()
    keys = _board_keys(mode=score.mode, played_at=score.played_at, verified=score.verified)
    current = {
        entry.board: entry
        for entry in LeaderboardEntry.objects.filter(player_id=score.player_id, board__in=keys)
    }
    mine = (-score.points, score.played_at, score.pk)
    new, changed = [], []
    for key in keys:
        entry = current.get(key)
        if entry is None:
            new.append(
                _entry(
                    board=key,
                    player_id=score.player_id,
                    score_id=score.pk,
                    points=score.points,
                    played_at=score.played_at,
                )
            )
        elif mine < (entry.neg_points, entry.played_at, entry.score_id):
            entry.score = score
            entry.points = score.points
            entry.neg_points = -score.points
            entry.played_at = score.played_at
            changed.append(entry)
    # One statement each, not one per board: a submission touches up to 8 boards.
    if new:
        LeaderboardEntry.objects.bulk_create(new)
    if changed:
        LeaderboardEntry.objects.bulk_update(
            changed, ["score", "points", "neg_points", "played_at"]
        )


# A score as _ROW_FIELDS reads it: id, player_id, mode, points, played_at, verified.
ScoreRow = tuple[int, int, str, int, dt.datetime, bool]


def _best_entries(rows: Iterable[ScoreRow]) -> Iterable[LeaderboardEntry]:
    """Board rows from scores sorted best first per (player, mode): the first per key wins."""
    seen: set[tuple[int, str]] = set()
    for score_id, player_id, mode, points, played_at, verified in rows:
        for key in _board_keys(mode=mode, played_at=played_at, verified=verified):
            if (player_id, key) in seen:
                continue
            seen.add((player_id, key))
            yield _entry(
                board=key,
                player_id=player_id,
                score_id=score_id,
                points=points,
                played_at=played_at,
            )


def _ranked_scores() -> QuerySet[Score]:
    """Scores that may stand on a board: not flagged, not in review, not rejected."""
    return Score.objects.filter(flagged=False, review_status__in=RANKED_REVIEW_STATUSES)


_BEST_FIRST = ["player", "mode", "-points", "played_at", "id"]
_ROW_FIELDS = ["id", "player_id", "mode", "points", "played_at", "verified"]


def leaderboard_rebuild_player(*, player_id: int, mode: str) -> None:
    """Recompute one player's rows on every board of a mode from their ranked scores."""
    LeaderboardEntry.objects.filter(player_id=player_id, board__startswith=f"{mode}:").delete()
    rows = (
        _ranked_scores()
        .filter(player_id=player_id, mode=mode)
        .order_by(*_BEST_FIRST)
        .values_list(*_ROW_FIELDS)
    )
    LeaderboardEntry.objects.bulk_create(_best_entries(rows.iterator(chunk_size=2000)))


# PostgreSQL rebuilds in one statement: the same keys as _board_keys/period_start (UTC day,
# ISO week from Monday, month, 1970-01-01 for all time), the same scores as _ranked_scores and
# the same order as _BEST_FIRST.
_REBUILD_SQL = """
INSERT INTO games_leaderboardentry (board, player_id, score_id, points, neg_points, played_at)
SELECT DISTINCT ON (board, player_id) board, player_id, id, points, -points, played_at
FROM (
    SELECT s.id, s.player_id, s.points, s.played_at,
           s.mode || ':' || sc.scope || ':' || p.period || ':' || to_char(
               CASE p.period
                   WHEN 'all' THEN DATE '1970-01-01'
                   WHEN 'day' THEN (s.played_at AT TIME ZONE 'UTC')::date
                   WHEN 'month' THEN date_trunc('month', s.played_at AT TIME ZONE 'UTC')::date
                   ELSE date_trunc('week', s.played_at AT TIME ZONE 'UTC')::date
               END, 'YYYY-MM-DD') AS board
    FROM games_score s
    CROSS JOIN (VALUES ('any'), ('verified')) AS sc(scope)
    CROSS JOIN (VALUES ('all'), ('day'), ('week'), ('month')) AS p(period)
    WHERE NOT s.flagged AND s.review_status IN ('none', 'approved')
      AND (sc.scope = 'any' OR s.verified)
) AS keyed
ORDER BY board, player_id, points DESC, played_at, id
"""


def leaderboard_rebuild(
    *,
    batch_size: int = 5000,
    wrap: Callable[[Iterable[ScoreRow], int], Iterable[ScoreRow]] | None = None,
) -> int:
    """Recompute every board from the scores (after a bulk load); returns the rows written.

    On PostgreSQL one INSERT ... SELECT DISTINCT ON does it (Django's bulk_create costs about
    0.1 ms a row, minutes at a million scores). Elsewhere the scores are streamed, never loaded
    whole; ``wrap(rows, total)`` may wrap that stream (a progress bar).
    """
    with transaction.atomic():
        LeaderboardEntry.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_REBUILD_SQL)
                return int(cursor.rowcount)
        return _leaderboard_rebuild_streamed(batch_size=batch_size, wrap=wrap)


def _leaderboard_rebuild_streamed(
    *, batch_size: int, wrap: Callable[[Iterable[ScoreRow], int], Iterable[ScoreRow]] | None
) -> int:
    written = 0
    scores = _ranked_scores()
    rows: Iterable[ScoreRow] = (
        scores.order_by(*_BEST_FIRST).values_list(*_ROW_FIELDS).iterator(chunk_size=batch_size)
    )
    if wrap is not None:
        rows = wrap(rows, scores.count())
    batch: list[LeaderboardEntry] = []
    # Rows arrive grouped by player: the "seen" set only ever needs one player's keys.
    current_player = None
    group: list[ScoreRow] = []
    for row in rows:
        if row[1] != current_player:
            batch.extend(_best_entries(group))
            group, current_player = [], row[1]
        group.append(row)
        if len(batch) >= batch_size:
            LeaderboardEntry.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    batch.extend(_best_entries(group))
    LeaderboardEntry.objects.bulk_create(batch)
    written += len(batch)
    return written
