"""Parsing of the values readings are made of, shared by the API, the importer and query params.

Each parser returns the value or raises ``ValueError`` with a message fit for the user.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

NAIVE_MESSAGE = "Timestamp has no timezone; add a UTC offset such as 'Z' or '+00:00'."


def parse_timestamp(raw: object) -> datetime:
    """An aware ISO-8601 timestamp, normalised to UTC."""
    if not isinstance(raw, str):
        raise ValueError("Timestamp must be an ISO-8601 string.")
    if not raw or len(raw) > 64 or "\x00" in raw:
        raise ValueError("Timestamp must be an ISO-8601 string.")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"Not an ISO-8601 timestamp: {raw[:40]!r}.") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(NAIVE_MESSAGE)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("Timestamp is out of range.") from None


def parse_value(raw: object) -> float:
    """A finite float from a JSON number (booleans and strings are refused)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError("Value must be a number." if raw is not None else "Value may not be null.")
    try:
        value = float(raw)
    except OverflowError:
        raise ValueError("Value is out of range.") from None
    if not math.isfinite(value):
        raise ValueError("Value must be finite (no NaN or Infinity).")
    return value


def parse_value_text(raw: str) -> float:
    """A finite float from CSV text."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"Not a number: {raw[:40]!r}.") from None
    if not math.isfinite(value):
        raise ValueError("Value must be finite (no NaN or Infinity).")
    return value


_BUCKET = re.compile(r"^([1-9][0-9]{0,5})(s|min|m|h|d)$")
_BUCKET_SECONDS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}


def parse_bucket(raw: str) -> timedelta:
    """``30s``, ``15min`` (or ``15m``), ``1h``, ``1d``: a positive whole number and a unit."""
    match = _BUCKET.match(raw or "")
    if not match:
        raise ValueError("Use a whole number and a unit: s, min (or m), h or d, e.g. '1h'.")
    seconds = int(match.group(1)) * _BUCKET_SECONDS[match.group(2)]
    if seconds > 366 * 86400:
        raise ValueError("A bucket may be at most 366 days.")
    return timedelta(seconds=seconds)
