"""Writes of the project package that commands run (kept apart from the middleware modules, which
import DRF: the hourly purge starts without it)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from targets_site.models import IdempotencyKey


def idempotency_purge(*, now: datetime | None = None, batch_size: int = 5000) -> int:
    """Delete expired keys in batches (short transactions, no long lock); return how many."""
    now = now or timezone.now()
    deleted = 0
    while True:
        ids = list(
            IdempotencyKey.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return deleted
        deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
