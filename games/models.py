from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from games import rules


class Mode(models.TextChoices):
    MOVING = "moving", "Moving square"
    BULLSEYE = "bullseye", "Bullseye"


class Period(models.TextChoices):
    ALL = "all", "All time"
    DAY = "day", "Today (UTC)"
    WEEK = "week", "This week (UTC, from Monday)"


class Scope(models.TextChoices):
    ANY = "any", "All scores"
    VERIFIED = "verified", "Verified scores only"


class Score(models.Model):
    """One round's result as the client reported it, plus what the server's replay found."""

    player = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scores"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices)
    points = models.IntegerField()
    hits = models.IntegerField()
    misses = models.IntegerField()
    duration_s = models.IntegerField()
    shots = models.JSONField(null=True, blank=True)
    replay = models.JSONField(null=True, blank=True)
    client_version = models.CharField(max_length=40, blank=True, default="")
    played_at = models.DateTimeField()
    submission_id = models.UUIDField(unique=True)
    # sha256 of the submitted body: a re-sent id with another body is told apart from a retry.
    submission_digest = models.CharField(max_length=64)
    verified = models.BooleanField(default=False)
    # What the server's own replay of the round gave (null when no replay was sent).
    replay_points = models.IntegerField(null=True, blank=True)
    replay_hits = models.IntegerField(null=True, blank=True)
    replay_misses = models.IntegerField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    flagged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="score_points_not_negative"),
            models.CheckConstraint(condition=Q(hits__gte=0), name="score_hits_not_negative"),
            models.CheckConstraint(condition=Q(misses__gte=0), name="score_misses_not_negative"),
            models.CheckConstraint(
                condition=Q(points__lte=F("hits") * rules.MAX_POINTS_PER_HIT),
                name="score_points_within_hits",
            ),
            models.CheckConstraint(
                condition=Q(duration_s__gte=rules.MIN_DURATION_S)
                & Q(duration_s__lte=rules.MAX_DURATION_S),
                name="score_duration_in_range",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=[choice.value for choice in Mode]), name="score_mode_known"
            ),
        ]
        indexes = [
            # The caller's own list, newest first.
            models.Index(fields=["player", "-created_at", "-id"], name="score_player_recent_idx"),
            # Rebuilding one player's leaderboard rows after a flag: best first.
            models.Index(
                fields=["player", "mode", "-points", "played_at", "id"],
                name="score_player_best_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.player.username} {self.mode} {self.points} points"

    @property
    def accuracy(self) -> float:
        total = self.hits + self.misses
        return round(self.hits / total, 4) if total else 0.0

    @property
    def replay_difference(self) -> dict[str, tuple[int, int | None]]:
        """Claimed vs replayed value for each field that differs (empty when they agree)."""
        if self.replay_points is None:
            return {}
        pairs = {
            "points": (self.points, self.replay_points),
            "hits": (self.hits, self.replay_hits),
            "misses": (self.misses, self.replay_misses),
        }
        return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


def board_key(mode: str, scope: str, period: str, start: dt.date) -> str:
    """One board's key, e.g. ``bullseye:verified:week:2026-11-23``."""
    return f"{mode}:{scope}:{period}:{start.isoformat()}"


class LeaderboardEntry(models.Model):
    """A player's best score on one board (mode, scope, period and period start, as ``board``).

    Kept up to date by the score services so a board read is an index range scan of at most
    one row per player, whatever the number of scores; scanning Score for "best per player"
    would read every score of the mode.

    Why one ``board`` column rather than four: the planner's row estimate for four correlated
    equality columns was off by 40x and it chose a full board scan plus sort for the top 10.
    Why ``neg_points``: board order is points down, then earlier played_at, then lower score id;
    with points negated every part ascends, so "the rows just above/below mine" is a row-value
    comparison ``(neg_points, played_at, score_id) < (...)`` that is an index range scan.
    """

    board = models.CharField(max_length=48)
    player = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="+")
    points = models.IntegerField()
    neg_points = models.IntegerField()
    played_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "player"], name="leaderboard_player_once"),
            models.CheckConstraint(
                condition=Q(neg_points=-F("points")), name="leaderboard_neg_points_mirror"
            ),
        ]
        indexes = [
            models.Index(
                fields=["board", "neg_points", "played_at", "score"], name="leaderboard_order_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.board} {self.player.username}"
