from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from games import rules
from targets_site.fastjson import JSONEncoder


class Mode(models.TextChoices):
    MOVING = "moving", "Moving square"
    BULLSEYE = "bullseye", "Bullseye"


class Period(models.TextChoices):
    ALL = "all", "All time"
    DAY = "day", "Today (UTC)"
    WEEK = "week", "This week (UTC, from Monday)"
    MONTH = "month", "This month (UTC)"


class Scope(models.TextChoices):
    ANY = "any", "All scores"
    VERIFIED = "verified", "Verified scores only"


class ReviewStatus(models.TextChoices):
    NONE = "none", "No review needed"
    REVIEW = "review", "Waiting for review"
    APPROVED = "approved", "Approved by staff"
    REJECTED = "rejected", "Rejected by staff"


# A score in review or rejected ranks on no board.
RANKED_REVIEW_STATUSES = (ReviewStatus.NONE, ReviewStatus.APPROVED)


class UnverifiedReason(models.TextChoices):
    """Why a stored score is not verified (empty when it is)."""

    NO_REPLAY = "no_replay", "No replay was sent"
    NO_ROUND = "no_round", "Not played under a server-issued round (offline)"
    ROUND_UNKNOWN = "round_unknown", "No such round"
    ROUND_NOT_YOURS = "round_not_yours", "The round was issued to another player"
    ROUND_USED = "round_used", "The round already has a score"
    ROUND_MISMATCH = "round_mismatch", "The round was issued for another mode or duration"
    SEED_MISMATCH = "seed_mismatch", "The replay's seed is not the round's"
    TOO_EARLY = "too_early", "Sent sooner than the round could have ended"
    REPLAY_MISMATCH = "replay_mismatch", "The replay does not give the claimed result"
    HUMAN_LIMITS = "human_limits", "Beyond the model of human limits (see review)"


class Round(models.Model):
    """A round the server issued: its seed, for one player, mode and duration, used at most once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    player = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rounds"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices)
    duration_s = models.FloatField()
    seed = models.BigIntegerField()
    tick_rate = models.PositiveSmallIntegerField(default=rules.TICK_RATE)
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["player", "-issued_at"], name="round_player_recent_idx")]

    def __str__(self) -> str:
        return f"{self.id} {self.mode} {self.duration_s:g} s"

    @property
    def ends_at(self) -> dt.datetime:
        """The soonest moment a score played under this round can arrive."""
        return self.issued_at + dt.timedelta(seconds=self.duration_s)


class Score(models.Model):
    """One round's result as the client reported it, plus what the server's replay found."""

    player = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scores"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices)
    points = models.IntegerField()
    hits = models.IntegerField()
    misses = models.IntegerField()
    duration_s = models.FloatField()
    # With a replay: the server's re-run of it (the first 1,000 shots), never the client's claim.
    shots = models.JSONField(null=True, blank=True, encoder=JSONEncoder)
    replay = models.JSONField(null=True, blank=True, encoder=JSONEncoder)
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
    # The server-issued round it was played under (one score per round).
    game_round = models.OneToOneField(
        Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="score"
    )
    unverified_reason = models.CharField(
        max_length=24, choices=UnverifiedReason.choices, blank=True, default=""
    )
    review_status = models.CharField(
        max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.NONE
    )
    review_reason = models.TextField(blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
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
            # The admin's review list: small, so a partial index.
            models.Index(
                fields=["created_at"],
                name="score_in_review_idx",
                condition=Q(review_status="review"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.player.username} {self.mode} {self.points} points"

    @property
    def accuracy(self) -> float:
        total = self.hits + self.misses
        return round(self.hits / total, 4) if total else 0.0

    @property
    def ranked(self) -> bool:
        """True when the score may stand on a leaderboard."""
        return not self.flagged and self.review_status in RANKED_REVIEW_STATUSES

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


class ScoreInReview(Score):
    """The admin's review list: replays that match their claim but beat the human-limits model."""

    class Meta:
        proxy = True
        verbose_name = "score to review"
        verbose_name_plural = "scores to review"


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
