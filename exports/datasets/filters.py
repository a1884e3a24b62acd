"""Checking an export's filters (``since``, ``until``, ``sensor``, ``mode``) against its dataset.

Cleaned filters are JSON-ready (times as ISO 8601 UTC text with ``Z``): they are stored on the
export record, take part in its fingerprint and are read back by the SQL and ORM producers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from exports.choices import FILTER_NAMES
from exports.datasets.registry import Dataset
from exports.formats import datetime_text
from targets_site.errors import InvalidInput

_TIME_HELP = "Use an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z."


def filter_datetime(name: str, raw: Any) -> dt.datetime:
    """``raw`` (a date, or a date-time with an offset) as an aware UTC datetime.

    A bare date is midnight UTC; a naive date-time is refused as ambiguous; a time that does not
    exist in UTC (``9999-12-31T23:59:59-23:59`` is in year 10000 there) is refused too.
    """
    value: dt.datetime | None
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str) and len(raw) <= 64 and "\x00" not in raw:
        text = raw.strip()
        try:
            # A bare date means midnight UTC (checked first: parse_datetime takes it as naive).
            day = parse_date(text) if len(text) == 10 else None
            if day is not None:
                value = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            else:
                value = parse_datetime(text.replace("z", "Z"))
        except ValueError:
            value = None
        if value is None:
            raise InvalidInput.for_field(name, _TIME_HELP)
    else:
        raise InvalidInput.for_field(name, "Use an ISO 8601 date or date-time string.")
    if value.tzinfo is None:
        raise InvalidInput.for_field(
            name, "Give a UTC offset (e.g. 2026-01-31T00:00:00Z): a naive time is ambiguous."
        )
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise InvalidInput.for_field(
            name, "That time is outside the years 1-9999 once converted to UTC."
        ) from None


def filters_clean(dataset: Dataset, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``raw`` filters against ``dataset``; return them JSON-ready (times as ISO UTC)."""
    raw = {key: value for key, value in (raw or {}).items() if value not in (None, "")}
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in FILTER_NAMES:
            errors[str(key)] = [f"Unknown filter; filters are {', '.join(FILTER_NAMES)}."]
        elif key not in dataset.filter_names:
            allowed = ", ".join(dataset.filter_names) or "none"
            errors[key] = [f"Dataset {dataset.name!r} has no {key!r} filter (it has: {allowed})."]
    if errors:
        raise InvalidInput(
            "; ".join(f"{key}: {messages[0]}" for key, messages in errors.items()), details=errors
        )
    times = {name: filter_datetime(name, raw[name]) for name in ("since", "until") if name in raw}
    if "since" in times and "until" in times and times["since"] >= times["until"]:
        raise InvalidInput.for_field("until", "'until' must be after 'since'.")
    cleaned: dict[str, Any] = {name: datetime_text(value) for name, value in times.items()}
    for name in ("sensor", "mode"):
        if name in raw:
            value = raw[name]
            if (
                not isinstance(value, str)
                or not value.strip()
                or len(value) > 50
                or "\x00" in value
            ):
                raise InvalidInput.for_field(
                    name, "Give a non-empty text value of at most 50 characters."
                )
            cleaned[name] = value.strip()
    if "mode" in cleaned and cleaned["mode"] not in dataset.mode_choices:
        raise InvalidInput.for_field(
            "mode", f"Unknown mode; choose one of {', '.join(dataset.mode_choices)}."
        )
    return cleaned
