"""Compact cell formats for admin lists that must fit a 1366 px window next to their filters."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def short_datetime(value: datetime | None) -> str:
    """``2026-11-30 04:10`` in the site's time zone (Django's own is twice as wide), or ``-``."""
    if value is None:
        return "-"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
