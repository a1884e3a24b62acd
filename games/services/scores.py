"""Score submission (plausibility rules, replay verification, idempotency), flags, deletion."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import UUIDField
from django.utils import timezone

from games import human_limits, rules
from games.models import Mode, ReviewStatus, Round, Score, UnverifiedReason
from games.replay_columns import ReplayedShots, replay_rerun
from games.services.leaderboards import leaderboard_offer, leaderboard_rebuild_player
from targets_site import metrics
from targets_site.errors import InvalidInput, Unprocessable

# Clocks drift; a score "from the future" by less than this is a clock, not a forgery.
PLAYED_AT_FUTURE_SKEW = dt.timedelta(minutes=5)
# The offline queue may hold a score for a while, but not for ever.
PLAYED_AT_MAX_AGE = dt.timedelta(days=90)
# The API's cap on a score's per-shot list (target.png draws them).
MAX_STORED_SHOTS = 1000


def submission_digest(body: Any) -> str:
    """A stable fingerprint of a submitted body (key order and spacing do not matter)."""
    # A parsed JSON body holds no cycles: not checking for them is 0.17 -> 0.13 ms of CPU for a
    # 900-shot replay's body, the same text.
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), default=str, check_circular=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _reject(code: str, message: str, field: str) -> InvalidInput:
    return InvalidInput.for_field(field, message, code=code)


def score_check_plausible(*, data: dict[str, Any], now: dt.datetime) -> None:
    """Each rule a named 400: what no honest client can send."""
    mode = data["mode"]
    if mode not in rules.MODES:
        raise _reject("unknown_mode", f"mode must be one of {', '.join(rules.MODES)}.", "mode")
    for name in ("points", "hits", "misses"):
        if data[name] < 0:
            raise _reject("negative_count", f"{name} must not be negative.", name)
    duration = data["duration_s"]
    if not rules.MIN_DURATION_S <= duration <= rules.MAX_DURATION_S:
        message = f"duration_s must be between {rules.MIN_DURATION_S} and {rules.MAX_DURATION_S} s."
        raise _reject("duration_out_of_range", message, "duration_s")
    hits, points = data["hits"], data["points"]
    most = rules.max_points(mode, hits)
    if points > most:
        message = f"{hits} hits in {mode} are worth at most {most} points."
        raise _reject("points_exceed_hits", message, "points")
    least = rules.min_points(mode, hits)
    if points < least:
        message = f"{hits} hits in {mode} are worth at least {least} points."
        raise _reject("points_below_hits", message, "points")
    most_shots = math.ceil(rules.MAX_SHOTS_PER_SECOND * duration)
    if hits + data["misses"] > most_shots:
        message = (
            f"At most {rules.MAX_SHOTS_PER_SECOND} shots a second ({most_shots} in {duration:g} s)."
        )
        raise _reject("shot_rate_exceeded", message, "hits")
    played_at = data["played_at"]
    if played_at > now + PLAYED_AT_FUTURE_SKEW:
        raise _reject("played_at_in_future", "played_at is in the future.", "played_at")
    if played_at < now - PLAYED_AT_MAX_AGE - dt.timedelta(seconds=duration):
        message = f"played_at is more than {PLAYED_AT_MAX_AGE.days} days ago."
        raise _reject("played_at_too_old", message, "played_at")
    shots = data.get("shots")
    if shots is not None:
        _check_shots(mode=mode, shots=shots, hits=hits, misses=data["misses"])


def _check_shots(*, mode: str, shots: list[dict[str, Any]], hits: int, misses: int) -> None:
    def inconsistent(message: str) -> InvalidInput:
        return _reject("shots_inconsistent", message, "shots")

    if len(shots) != hits + misses:
        raise inconsistent(f"shots lists {len(shots)} shots but hits + misses is {hits + misses}.")
    if sum(1 for shot in shots if shot["hit"]) != hits:
        raise inconsistent("The number of shots marked hit is not hits.")
    for index, shot in enumerate(shots):
        ring = shot["ring"]
        if shot["hit"] and ring is None:
            raise inconsistent(f"shots[{index}] is a hit without a ring.")
        if not shot["hit"] and ring is not None:
            raise inconsistent(f"shots[{index}] is a miss with a ring.")
        if mode == Mode.MOVING and ring not in (None, 1):
            raise inconsistent(f"shots[{index}]: a hit on the square is ring 1.")


def _replay_check(*, data: dict[str, Any]) -> ReplayedShots | None:
    """Re-run the round from its replay with the game's own rules (None without a replay)."""
    replay = data.get("replay")
    if replay is None:
        return None
    try:
        return replay_rerun(replay, mode=data["mode"], duration_s=data["duration_s"])
    except rules.ReplayError as exc:
        raise InvalidInput.for_field("replay", exc.message, code=exc.code) from None


# Three lookups every submission makes, written as SQL: the ORM compiles a query anew each time,
# 0.5-0.7 ms of CPU apiece on this path; these take 0.1-0.3 ms (bench/games_submit.py).
# UUIDs go in as the model's fields store them (text on SQLite); FOR UPDATE where the
# database has it (on SQLite the write transaction already serializes submissions).
def _submission_row(submission_id: Any) -> tuple[int, int, str] | None:
    """``(id, player_id, submission_digest)`` of the score stored under ``submission_id``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, player_id, submission_digest FROM games_score WHERE submission_id = %s",
            [_uuid_param(submission_id)],
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1], row[2])


def _round_locked(round_id: Any) -> Round | None:
    sql = "SELECT id, player_id, mode, duration_s, seed, tick_rate, issued_at FROM games_round"
    sql += " WHERE id = %s" + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    return next(iter(Round.objects.raw(sql, [_uuid_param(round_id)])), None)


def _round_used(round_id: Any) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM games_score WHERE game_round_id = %s LIMIT 1",
            [_uuid_param(round_id)],
        )
        return cursor.fetchone() is not None


def _uuid_param(value: Any) -> Any:
    return _UUID_FIELD.get_db_prep_value(value, connection)


_UUID_FIELD: UUIDField[Any, Any] = UUIDField()


def _existing_submission(*, player: User, submission_id: Any, digest: str) -> Score | None:
    row = _submission_row(submission_id)
    if row is None:
        return None
    pk, player_id, stored_digest = row
    if player_id != player.pk or stored_digest != digest:
        raise Unprocessable(
            "This submission_id was already used for a different score; "
            "make a new submission_id for a new round."
        )
    return Score.objects.get(pk=pk)


def _claim_round(
    *, player: User, data: dict[str, Any], now: dt.datetime
) -> tuple[Round | None, str]:
    """The round the score names, locked, and what is wrong with it ("" when nothing).

    A round of this player's is used up by the first score that names it, whatever its verdict,
    so a round can never verify twice. Call inside the submission's transaction.
    """
    round_id = data.get("round_id")
    if round_id is None:
        return None, UnverifiedReason.NO_ROUND
    game_round = _round_locked(round_id)
    if game_round is None:
        return None, UnverifiedReason.ROUND_UNKNOWN
    if game_round.player_id != player.pk:
        return None, UnverifiedReason.ROUND_NOT_YOURS
    # A statement of its own, after the lock: it sees a score another submission of this round
    # committed while this one waited (a subquery beside the lock would not).
    if _round_used(round_id):
        return None, UnverifiedReason.ROUND_USED
    replay = data.get("replay") or {}
    if game_round.mode != data["mode"] or game_round.duration_s != data["duration_s"]:
        return game_round, UnverifiedReason.ROUND_MISMATCH
    if replay and replay.get("seed") != game_round.seed:
        return game_round, UnverifiedReason.SEED_MISMATCH
    if now < game_round.ends_at:
        return game_round, UnverifiedReason.TOO_EARLY
    return game_round, ""


def _verdict(
    *, data: dict[str, Any], replayed: ReplayedShots | None, round_reason: str
) -> tuple[str, list[human_limits.Finding]]:
    """(unverified reason or "", human-limit findings) for a score and its re-run."""
    if replayed is None:
        return UnverifiedReason.NO_REPLAY, []
    matches = (replayed.points, replayed.hits, replayed.misses) == (
        data["points"],
        data["hits"],
        data["misses"],
    )
    if not matches:
        return round_reason or UnverifiedReason.REPLAY_MISMATCH, []
    replay = data["replay"]
    findings = human_limits.human_limits_check(
        mode=data["mode"], seed=replay["seed"], tick_rate=replay["tick_rate"], shots=replayed
    )
    if round_reason:
        return round_reason, findings
    return (UnverifiedReason.HUMAN_LIMITS if findings else ""), findings


def score_submit(*, player: User, data: dict[str, Any], digest: str) -> tuple[Score, bool]:
    """Store a round's score once per submission_id; returns (score, created).

    A retry of the same body returns the stored score; the same id with another body is 422.
    The unique constraint on submission_id, not the read before it, is what makes concurrent
    duplicates store one row.

    ``verified`` needs all of: a replay that re-runs to exactly the claimed points, hits and
    misses; the round it names issued by this server to this player for this mode and duration,
    with the replay's seed, not used before, and ended by now; and shots within the human limits.
    A matching replay beyond those limits is stored for review and ranks nowhere until approved.
    """
    existing = _existing_submission(
        player=player, submission_id=data["submission_id"], digest=digest
    )
    if existing is not None:
        return existing, False
    now = timezone.now()
    score_check_plausible(data=data, now=now)
    replayed = _replay_check(data=data)
    shots = data.get("shots")
    if replayed is not None:
        # What the server saw, never the client's picture of it.
        shots = replayed.details(MAX_STORED_SHOTS)
    score = Score(
        player=player,
        mode=data["mode"],
        points=data["points"],
        hits=data["hits"],
        misses=data["misses"],
        duration_s=data["duration_s"],
        shots=shots,
        replay=data.get("replay"),
        client_version=data.get("client_version", ""),
        played_at=data["played_at"],
        submission_id=data["submission_id"],
        submission_digest=digest,
    )
    if replayed is not None:
        score.replay_points = replayed.points
        score.replay_hits = replayed.hits
        score.replay_misses = replayed.misses
    try:
        with transaction.atomic():
            game_round, round_reason = _claim_round(player=player, data=data, now=now)
            reason, findings = _verdict(data=data, replayed=replayed, round_reason=round_reason)
            score.game_round = game_round
            score.unverified_reason = reason
            score.verified = reason == ""
            if findings:
                score.review_status = ReviewStatus.REVIEW
                score.review_reason = "\n".join(f"{f.code}: {f.message}" for f in findings)
            score.save()
            leaderboard_offer(score=score)
            metrics.score_submitted(verified=score.verified)
    except IntegrityError:
        existing = _existing_submission(
            player=player, submission_id=data["submission_id"], digest=digest
        )
        if existing is None:
            raise
        return existing, False
    return score, True


@transaction.atomic
def score_review(*, score_ids: Iterable[int], approve: bool, reviewer: User | None = None) -> int:
    """Approve or reject scores waiting for review; returns how many changed.

    Approved: it ranks, and it is verified when the human limits were the only thing wrong.
    Rejected: it ranks nowhere, not even on the every-score board.
    """
    scores = list(
        Score.objects.select_for_update().filter(
            pk__in=list(score_ids), review_status=ReviewStatus.REVIEW
        )
    )
    now = timezone.now()
    for score in scores:
        score.review_status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        score.reviewed_by = reviewer
        score.reviewed_at = now
        if approve and score.unverified_reason == UnverifiedReason.HUMAN_LIMITS:
            score.unverified_reason = ""
            score.verified = True
    Score.objects.bulk_update(
        scores, ["review_status", "reviewed_by", "reviewed_at", "unverified_reason", "verified"]
    )
    for player_id, mode in {(score.player_id, score.mode) for score in scores}:
        leaderboard_rebuild_player(player_id=player_id, mode=mode)
    return len(scores)


@transaction.atomic
def score_flag(*, score_ids: Iterable[int], flagged: bool = True) -> int:
    """Flag (or unflag) scores: a flagged score leaves every leaderboard. Returns the count."""
    scores = list(Score.objects.select_for_update().filter(pk__in=list(score_ids)))
    changed = [score for score in scores if score.flagged != flagged]
    now = timezone.now()
    for score in changed:
        score.flagged = flagged
        score.flagged_at = now if flagged else None
    Score.objects.bulk_update(changed, ["flagged", "flagged_at"])
    for player_id, mode in {(score.player_id, score.mode) for score in changed}:
        leaderboard_rebuild_player(player_id=player_id, mode=mode)
    return len(changed)


@transaction.atomic
def score_delete(*, score_ids: Iterable[int]) -> int:
    """Delete scores and let each player's next best take their place on the boards."""
    scores = list(Score.objects.select_for_update().filter(pk__in=list(score_ids)))
    affected = {(score.player_id, score.mode) for score in scores}
    Score.objects.filter(pk__in=[score.pk for score in scores]).delete()
    for player_id, mode in affected:
        leaderboard_rebuild_player(player_id=player_id, mode=mode)
    return len(scores)
