from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from games import rules, services
from games.client.app import score_payload
from games.models import Round, Score


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"player{n}")
    password = factory.django.Password("correct horse battery")


def issued_round(
    player, *, mode: str = "bullseye", duration_s: float = 10, seed: int = 1, ago: float = 60
) -> Round:
    """A round the server issued ``ago`` seconds ago (long enough to have been played)."""
    return services.round_issue(
        player=player,
        mode=mode,
        duration_s=duration_s,
        seed=seed,
        now=timezone.now() - dt.timedelta(seconds=ago),
    )


def bot_payload(
    mode: str = "bullseye",
    *,
    seed: int = 1,
    duration_s: float = 10,
    played_at: dt.datetime | None = None,
    with_shots: bool = True,
    round_for=None,
) -> dict[str, Any]:
    """A JSON body exactly as the client builds it (its own ``score_payload``) for a bot round.

    With ``round_for=player``, the round is first issued to that player (a minute ago), as the
    client asks for one when a round starts; without, it is an offline round (unverified).
    """
    round_id = None
    if round_for is not None:
        game_round = issued_round(round_for, mode=mode, duration_s=duration_s, seed=seed)
        round_id = str(game_round.id)
    game = rules.bot_round(mode, seed, duration_s)
    body = score_payload(game, mode=mode, duration_s=duration_s, round_id=round_id)
    body["played_at"] = (played_at or timezone.now() - dt.timedelta(minutes=1)).isoformat()
    if with_shots:  # what a client without the bundled rules may send instead of a replay
        body["shots"] = [shot.as_detail() for shot in game.result.shots]
    return body


def make_score(
    player,
    *,
    mode: str = "bullseye",
    points: int,
    hits: int | None = None,
    played_at: dt.datetime | None = None,
    verified: bool = False,
) -> Score:
    """A stored score with exact points (no replay), placed on the leaderboards by the service."""
    if hits is None:
        hits = -(-points // 100)  # fewest hits that allow the points
    data = {
        "mode": mode,
        "points": points,
        "hits": hits,
        "misses": 0,
        "duration_s": 60,
        "round_id": None,
        "played_at": played_at or timezone.now() - dt.timedelta(minutes=5),
        "submission_id": uuid.uuid4(),
    }
    score, _ = services.score_submit(player=player, data=data, digest=str(uuid.uuid4()))
    if verified:
        # Stand-in for a matching replay when a test needs exact points on a verified board.
        Score.objects.filter(pk=score.pk).update(verified=True, unverified_reason="")
        score.refresh_from_db()
        services.leaderboard_rebuild_player(player_id=player.pk, mode=mode)
    return score


def perfect_replay(mode: str, seed: int, duration_s: float, per_second: int) -> rules.Round:
    """A computed perfect round: ``per_second`` shots a second, each on the target's centre.

    What a script that imports the rules module can make without playing at all.
    """
    ticks = rules.ticks_for(duration_s)
    game = rules.Round(mode, seed, rules.TICK_RATE, ticks)
    for tick in range(0, ticks, rules.TICK_RATE // per_second):
        x, y = game.motion.at(tick)
        game.shoot(round(x / rules.SCALE), round(y / rules.SCALE), tick)
    return game


def perfect_payload(
    player, mode: str = "bullseye", *, per_second: int, duration_s: float = 4, seed: int = 5
) -> dict[str, Any]:
    """A perfect round's body, under a round really issued to ``player``."""
    game_round = issued_round(player, mode=mode, duration_s=duration_s, seed=seed)
    game = perfect_replay(mode, seed, duration_s, per_second)
    result = game.result
    return {
        "mode": mode,
        "points": result.points,
        "hits": result.hits,
        "misses": result.misses,
        "duration_s": duration_s,
        "shots": [shot.as_detail() for shot in result.shots],
        "replay": game.replay(),
        "client_version": "script",
        "played_at": (timezone.now() - dt.timedelta(seconds=10)).isoformat(),
        "submission_id": str(uuid.uuid4()),
        "round_id": str(game_round.id),
    }
