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
DEMO_NAMESPACE = uuid.UUID("6f1c1f52-3a57-4a8e-9d59-5c3b7d0e2a11")


def _payload(game: rules.Round, *, mode: str, played_at: dt.datetime, key: str) -> dict[str, Any]:
    result = game.result
    return {
        "mode": mode,
        "points": result.points,
        "hits": result.hits,
        "misses": result.misses,
        "duration_s": game.ticks // game.tick_rate,
        "shots": [shot.as_detail() for shot in result.shots],
        "replay": game.replay(),
        "client_version": "demo-bot",
        "played_at": played_at,
        "submission_id": uuid.uuid5(DEMO_NAMESPACE, key),
    }


def demo_seed(*, stdout: Any) -> None:
    """A demo player with replay-verified bot rounds in both modes (idempotent)."""
    user_model = get_user_model()
    player, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
    if created:
        player.set_password(DEMO_PASSWORD)
        player.save(update_fields=["password"])
    now = timezone.now()
    stored = 0
    for mode in rules.MODES:
        for n in range(DEMO_ROUNDS):
            key = f"{mode}-{n}"
            if Score.objects.filter(submission_id=uuid.uuid5(DEMO_NAMESPACE, key)).exists():
                continue
            game = rules.bot_round(mode, 1000 + n, 30)
            data = _payload(game, mode=mode, played_at=now - dt.timedelta(hours=n), key=key)
            _, was_created = services.score_submit(
                player=player, data=data, digest=services.submission_digest(key)
            )
            stored += was_created
    stdout.write(
        f"games: {len(rules.MODES) * DEMO_ROUNDS} demo rounds ({stored} new) for "
        f"{DEMO_USERNAME!r}; play with: python -m games.client --server http://127.0.0.1:8000 "
        f"--user {DEMO_USERNAME} (password: {DEMO_PASSWORD})"
        + ("" if created else " [password unchanged if you changed it]")
    )
