from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from games import rules, services
from games.models import Score

DEMO_USERNAME = "demo-player"
DEMO_PASSWORD = "targets-demo-2024"  # demo data only; printed so people can log in
DEMO_ROUNDS = 4  # per mode
DEMO_DURATION_S = 30
# Rival bot players, so the demo boards have a ranking; they cannot log in.
RIVALS = ("ace", "deadeye", "rookie")
RIVAL_ROUNDS = 2
DEMO_NAMESPACE = uuid.UUID("6f1c1f52-3a57-4a8e-9d59-5c3b7d0e2a11")


def _payload(
    game: rules.Round, *, mode: str, played_at: dt.datetime, key: str, round_id: uuid.UUID
) -> dict[str, Any]:
    result = game.result
    return {
        "round_id": round_id,
        "mode": mode,
        "points": result.points,
        "hits": result.hits,
        "misses": result.misses,
        "duration_s": DEMO_DURATION_S,
        "shots": [shot.as_detail() for shot in result.shots],
        "replay": game.replay(),
        "client_version": "demo-bot",
        "played_at": played_at,
        "submission_id": uuid.uuid5(DEMO_NAMESPACE, key),
    }


def _play(player, *, mode: str, seed: int, key: str, played_at: dt.datetime) -> bool:
    if Score.objects.filter(submission_id=uuid.uuid5(DEMO_NAMESPACE, key)).exists():
        return False
    # Issued when the round started, like the client's: the score arrives after it ended.
    issued_at = played_at - dt.timedelta(seconds=DEMO_DURATION_S)
    game_round = services.round_issue(
        player=player, mode=mode, duration_s=DEMO_DURATION_S, now=issued_at, seed=seed
    )
    game = rules.bot_round(mode, seed, DEMO_DURATION_S)
    data = _payload(game, mode=mode, played_at=played_at, key=key, round_id=game_round.id)
    _, created = services.score_submit(
        player=player, data=data, digest=services.submission_digest(key)
    )
    return created


def demo_seed(*, stdout: Any) -> None:
    """A demo player and three rival bots with replay-verified rounds in both modes (idempotent)."""
    user_model = get_user_model()
    player, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
    if created:
        player.set_password(DEMO_PASSWORD)
        player.save(update_fields=["password"])
    now = timezone.now()
    stored = 0
    for mode in rules.MODES:
        for n in range(DEMO_ROUNDS):
            stored += _play(
                player,
                mode=mode,
                seed=1000 + n,
                key=f"{mode}-{n}",
                played_at=now - dt.timedelta(hours=n),
            )
    for index, name in enumerate(RIVALS):
        rival, rival_created = user_model.objects.get_or_create(username=f"demo-{name}")
        if rival_created:
            rival.set_unusable_password()
            rival.save(update_fields=["password"])
        for mode in rules.MODES:
            for n in range(RIVAL_ROUNDS):
                stored += _play(
                    rival,
                    mode=mode,
                    seed=2000 + index * 10 + n,
                    key=f"{name}-{mode}-{n}",
                    played_at=now - dt.timedelta(hours=index + n + 1),
                )
    rounds = len(rules.MODES) * (DEMO_ROUNDS + len(RIVALS) * RIVAL_ROUNDS)
    stdout.write(
        f"games: {rounds} verified demo rounds ({stored} new) for {DEMO_USERNAME!r} and "
        f"{len(RIVALS)} rival bots; play with: python -m games.client "
        f"--server http://127.0.0.1:8000 --user {DEMO_USERNAME} (password: {DEMO_PASSWORD})"
        + ("" if created else " [unless you changed it]")
    )
