"""Server-issued rounds: the seed a verified score must be played under."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.models import User
from django.utils import timezone

from games import rules
from games.models import Round
from targets_site.errors import InvalidInput


def round_check_request(*, mode: str, duration_s: float) -> None:
    """Each rule a named 400, the same codes as a score's."""
    if mode not in rules.MODES:
        message = f"mode must be one of {', '.join(rules.MODES)}."
        raise InvalidInput.for_field("mode", message, code="unknown_mode")
    if not rules.MIN_DURATION_S <= duration_s <= rules.MAX_DURATION_S:
        message = f"duration_s must be between {rules.MIN_DURATION_S} and {rules.MAX_DURATION_S} s."
        raise InvalidInput.for_field("duration_s", message, code="duration_out_of_range")


def round_issue(
    *,
    player: User,
    mode: str,
    duration_s: float,
    now: dt.datetime | None = None,
    seed: int | None = None,
) -> Round:
    """A fresh round for ``player``: an unpredictable seed, stamped with the server's clock.

    ``now`` and ``seed`` are for demo data and tests (a round issued in the past, a known
    target path); the API passes neither.
    """
    round_check_request(mode=mode, duration_s=duration_s)
    return Round.objects.create(
        player=player,
        mode=mode,
        duration_s=duration_s,
        seed=secrets.randbelow(rules.MAX_SEED + 1) if seed is None else seed,
        tick_rate=rules.TICK_RATE,
        issued_at=now or timezone.now(),
    )
