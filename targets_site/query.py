"""Strict parsing of query parameters: booleans, datetimes and integers, the same everywhere.

The accepted spellings (docs/CONVENTIONS.md):

- a boolean is ``true``/``false`` or ``1``/``0`` (any letter case); anything else (``yes``,
  ``maybe``) is a 400 naming the parameter, never silently ignored;
- a datetime is ISO 8601 with a UTC offset (``2026-01-31T00:00:00Z``, ``...+01:00``), returned in
  UTC; a naive one is a 400 saying so. A bare date (midnight UTC) only where the caller says the
  parameter names a day (``date_means_midnight_utc=True``: export filters);
- an integer is plain decimal digits within the parameter's bounds; above the maximum it is a 400,
  or clamped to it where the parameter is a cap (``clamp=True``: ``page_size``).

An absent or empty parameter (``?open=``) means "not given": the default.

``query_*`` take ``request.query_params`` (any mapping) and raise ``InvalidInput`` with
``{name: [message]}``; ``parse_*`` are the underlying pure functions raising ``ValueError``.
``targets_site.filters.StrictBooleanFilter`` is the django-filter form of the boolean rule.
This module imports nothing of DRF or django-filter: commands use it without paying for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from targets_site.errors import InvalidInput

TRUE_SPELLINGS = frozenset({"true", "1"})
FALSE_SPELLINGS = frozenset({"false", "0"})
BOOLEAN_MESSAGE = "Use true or false (or 1 or 0)."
NAIVE_MESSAGE = "Timestamp has no timezone; add a UTC offset such as 'Z' or '+00:00'."
_MAX_DATETIME_CHARS = 64
_MAX_INT_DIGITS = 9  # below 2**31: never converts a huge string to an int


def _given(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    return None if raw in (None, "") else raw


def parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in TRUE_SPELLINGS:
        return True
    if lowered in FALSE_SPELLINGS:
        return False
    raise ValueError(BOOLEAN_MESSAGE)


def parse_datetime(raw: object, *, date_means_midnight_utc: bool = False) -> dt.datetime:
    """An aware ISO 8601 date-time, in UTC (a bare date only with ``date_means_midnight_utc``)."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > _MAX_DATETIME_CHARS:
        raise ValueError("Use an ISO 8601 date-time string with a UTC offset.")
    text = raw.strip()
    if "\x00" in text:
        raise ValueError("Use an ISO 8601 date-time string with a UTC offset.")
    if text.endswith("z"):
        text = text[:-1] + "Z"
    if date_means_midnight_utc and len(text) == 10:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"Not an ISO 8601 date-time: {text[:40]!r}; e.g. 2026-01-31T00:00:00Z."
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(NAIVE_MESSAGE)
    try:
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError("That time is outside the years 1-9999 once converted to UTC.") from None


def parse_int(raw: str, *, minimum: int, maximum: int, clamp: bool = False) -> int:
    """Decimal digits from ``minimum`` to ``maximum`` (above it: clamped with ``clamp``)."""
    if clamp:
        message = f"Must be a whole number of at least {minimum}."
    else:
        message = f"Must be a whole number from {minimum} to {maximum}."
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError(message)
    if len(raw) > _MAX_INT_DIGITS:
        if clamp:
            return maximum
        raise ValueError(message)
    value = int(raw)
    if value < minimum:
        raise ValueError(message)
    if value > maximum:
        if clamp:
            return maximum
        raise ValueError(message)
    return value


def query_bool(params: Mapping[str, str], name: str) -> bool | None:
    """``?name=true|false|1|0``; None when absent or empty."""
    raw = _given(params, name)
    if raw is None:
        return None
    try:
        return parse_bool(raw)
    except ValueError as exc:
        raise InvalidInput(details={name: [str(exc)]}) from None


def query_datetime(params: Mapping[str, str], name: str) -> dt.datetime | None:
    """``?name=<aware ISO 8601>`` in UTC; None when absent or empty."""
    raw = _given(params, name)
    if raw is None:
        return None
    try:
        return parse_datetime(raw)
    except ValueError as exc:
        raise InvalidInput(details={name: [str(exc)]}) from None


def query_range(
    params: Mapping[str, str], start: str = "from", end: str = "to"
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``?from=&to=`` (either may be absent); every bad bound named at once, and not reversed."""
    bounds: dict[str, dt.datetime | None] = {}
    problems: dict[str, list[str]] = {}
    for name in (start, end):
        raw = _given(params, name)
        try:
            bounds[name] = None if raw is None else parse_datetime(raw)
        except ValueError as exc:
            problems[name] = [str(exc)]
    if problems:
        raise InvalidInput(details=problems)
    first, last = bounds[start], bounds[end]
    if first is not None and last is not None and first > last:
        raise InvalidInput(details={start: [f"'{start}' must not be after '{end}'."]})
    return first, last


def query_int(
    params: Mapping[str, str],
    name: str,
    *,
    default: int,
    minimum: int,
    maximum: int,
    clamp: bool = False,
) -> int:
    """``?name=<digits>`` within bounds; ``default`` when absent or empty."""
    raw = _given(params, name)
    if raw is None:
        return default
    try:
        return parse_int(raw, minimum=minimum, maximum=maximum, clamp=clamp)
    except ValueError as exc:
        raise InvalidInput(details={name: [str(exc)]}) from None
