from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from games import rules, services
from games.client.app import score_payload
from games.models import Score


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"player{n}")
    password = factory.django.Password("correct horse battery")


def bot_payload(
    mode: str = "bullseye",
    *,
    seed: int = 1,
    duration_s: int = 10,
    played_at: dt.datetime | None = None,
    with_shots: bool = True,
) -> dict[str, Any]:
    """A JSON body exactly as the client builds it (its own ``score_payload``) for a bot round."""
    body = score_payload(rules.bot_round(mode, seed, duration_s), mode=mode, duration_s=duration_s)
    body["played_at"] = (played_at or timezone.now() - dt.timedelta(minutes=1)).isoformat()
    if not with_shots:
        body.pop("shots", None)
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
        "played_at": played_at or timezone.now() - dt.timedelta(minutes=5),
        "submission_id": uuid.uuid4(),
    }
    score, _ = services.score_submit(player=player, data=data, digest=str(uuid.uuid4()))
    if verified:
        # Stand-in for a matching replay when a test needs exact points on a verified board.
        Score.objects.filter(pk=score.pk).update(verified=True)
        score.refresh_from_db()
        services.leaderboard_rebuild_player(player_id=player.pk, mode=mode)
    return score
