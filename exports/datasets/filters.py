"""Checking an export's filters (``since``, ``until``, ``sensor``, ``mode``) against its dataset.

Cleaned filters are JSON-ready (times as ISO 8601 UTC text with ``Z``): they are stored on the
export record, take part in its fingerprint and are read back by the SQL and ORM producers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from exports.choices import FILTER_NAMES
from exports.datasets.registry import Dataset
from exports.formats import datetime_text
from targets_site.errors import InvalidInput
from targets_site.query import parse_datetime


def filter_datetime(name: str, raw: Any) -> dt.datetime:
    """``raw`` (a date, or a date-time with an offset) as an aware UTC datetime.

    The query rule of ``targets_site.query``, with a bare date meaning midnight UTC (these
    filters name days); a naive date-time is refused as ambiguous.
    """
    if isinstance(raw, dt.datetime) and raw.tzinfo is not None:
        return raw.astimezone(dt.UTC)
    try:
        return parse_datetime(raw, date_means_midnight_utc=True)
    except ValueError as exc:
        raise InvalidInput.for_field(name, str(exc)) from None


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
