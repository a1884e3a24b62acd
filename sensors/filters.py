"""Query parameters shared by the sensors endpoints: ``from``/``to`` and plot sizes.

``from`` is a Python keyword, and every endpoint here needs the same strict rules (aware
timestamps only, ``from`` not after ``to``), so these are small parsers rather than a FilterSet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rest_framework.exceptions import ValidationError

from sensors.parsing import parse_timestamp

PLOT_WIDTH = (200, 4000, 1000)  # min, max, default (pixels)
PLOT_HEIGHT = (150, 3000, 450)


def time_range(params: Mapping[str, str]) -> tuple[datetime | None, datetime | None]:
    """``?from=&to=`` as aware UTC datetimes (either may be absent); 400 when bad or reversed."""
    errors: dict[str, list[str]] = {}
    bounds: dict[str, datetime | None] = {"from": None, "to": None}
    for name in bounds:
        raw = params.get(name)
        if raw in (None, ""):
            continue
        try:
            bounds[name] = parse_timestamp(raw)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    start, end = bounds["from"], bounds["to"]
    if start is not None and end is not None and start > end:
        raise ValidationError({"from": ["'from' must not be after 'to'."]})
    return start, end


def bounded_int(params: Mapping[str, str], name: str, bounds: tuple[int, int, int]) -> int:
    low, high, default = bounds
    raw = params.get(name)
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 7:
        raise ValidationError({name: [f"Must be a whole number from {low} to {high}."]})
    value = int(raw)
    if not low <= value <= high:
        raise ValidationError({name: [f"Must be a whole number from {low} to {high}."]})
    return value


def optional_bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if not raw:
        return None
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValidationError({name: ["Use true or false."]})
