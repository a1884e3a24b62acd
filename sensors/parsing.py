"""Parsing readings and the values they are made of: no request, no database.

``reading_parse`` holds the rules a reading must pass, wherever it comes from; the entry points
below it take a reading as each source delivers it and add a fast path for the common case:

- ``readings_from_json``: a JSON document, one object or a list of them, ``{"sensor",
  "timestamp", "value"}`` from the API, or ``{"timestamp", "value"}`` with the sensor named by
  the caller (an MQTT topic);
- ``reading_from_json``: one such object, through the rules only (the reference path);
- ``readings_from_csv``: long-format CSV lines, ``timestamp,sensor,value``;
- ``reading_from_csv``: one such line, through the rules only (the reference path).

A fast path only ever accepts a row that ``reading_parse`` accepts, as the same reading; for
anything else it steps aside and the rules say exactly what is wrong
(``tests/sensors/test_parsing.py`` holds them to that). A bad reading raises ``InvalidInput``
whose details name each bad field; the field parsers (``parse_timestamp``, ``parse_value``...)
return the value or raise ``ValueError`` with a message fit for the user.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

from targets_site.csv_text import csv_unescape_formula
from targets_site.errors import InvalidInput, TooLarge

MAX_BATCH = 10_000  # readings in one API request or one MQTT message
NAIVE_MESSAGE = "Timestamp has no timezone; add a UTC offset such as 'Z' or '+00:00'."
TIMESTAMP_MAX_LENGTH = 64


def parse_timestamp(raw: object) -> datetime:
    """An aware ISO-8601 timestamp, normalised to UTC."""
    if not isinstance(raw, str):
        raise ValueError("Timestamp must be an ISO-8601 string.")
    if not raw or len(raw) > TIMESTAMP_MAX_LENGTH or "\x00" in raw:
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


# --- Readings ---------------------------------------------------------------------------------

ReadingRow = tuple[int, datetime, float]
"""A parsed reading: (sensor id, aware timestamp, finite value), ready for the bulk writer."""

READING_FIELDS: Final = ("sensor", "timestamp", "value")
MESSAGE_FIELDS: Final = ("timestamp", "value")  # the sensor is named by where the message came


class _Missing(Enum):
    MISSING = "missing"


MISSING: Final = _Missing.MISSING
"""A field the reading does not have (``reading_parse`` reports it as required)."""

REQUIRED_MESSAGE = "This field is required."
SENSOR_GIVEN_MESSAGE = "The topic names the sensor; leave it out."


def reading_parse(
    *,
    sensor: object,
    timestamp: object,
    value: object,
    known: Mapping[str, int],
    text: bool = False,
) -> ReadingRow:
    """The rules a reading must pass, one for one; raises ``InvalidInput`` naming each bad field.

    1. ``sensor`` is a string naming a known sensor (``known``: code -> id).
    2. ``timestamp`` is an ISO-8601 string of at most 64 characters without NUL, with a UTC
       offset (a naive time is refused, saying so; offsets may carry seconds), whose instant in
       UTC is still in the calendar (years 1 to 9999).
    3. ``value`` is a finite float (NaN and +-Infinity are refused): from JSON, a number but
       not a boolean and not null, within float range; with ``text``, a text ``float()``
       reads (CSV cells).

    A field given as ``MISSING`` is reported as required.
    """
    errors: dict[str, list[str]] = {}
    sensor_id = 0
    if sensor is MISSING:
        errors["sensor"] = [REQUIRED_MESSAGE]
    elif not isinstance(sensor, str):
        errors["sensor"] = ["Sensor must be a sensor code (a string)."]
    elif sensor not in known:
        errors["sensor"] = [f"Unknown sensor code {sensor[:60]!r}."]
    else:
        sensor_id = known[sensor]
    parsed_timestamp = parsed_value = None
    if timestamp is MISSING:
        errors["timestamp"] = [REQUIRED_MESSAGE]
    else:
        try:
            parsed_timestamp = parse_timestamp(timestamp)
        except ValueError as exc:
            errors["timestamp"] = [str(exc)]
    if value is MISSING:
        errors["value"] = [REQUIRED_MESSAGE]
    else:
        try:
            if text:
                if not isinstance(value, str):
                    raise ValueError("Value must be a number.")
                parsed_value = parse_value_text(value)
            else:
                parsed_value = parse_value(value)
        except ValueError as exc:
            errors["value"] = [str(exc)]
    if errors or parsed_timestamp is None or parsed_value is None:
        raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), details=errors)
    return sensor_id, parsed_timestamp, parsed_value


def reading_from_json(
    row: object, *, known: Mapping[str, int], sensor: str | None = None
) -> ReadingRow:
    """One JSON reading object, through the rules only: the reference for the fast path.

    The API's objects are ``{"sensor", "timestamp", "value"}``; with ``sensor`` given (the MQTT
    worker's topic) they are ``{"timestamp", "value"}`` and may not name a sensor themselves.
    Any other key is an unknown field.
    """
    if not isinstance(row, dict):
        message = "Each reading must be an object."
        raise InvalidInput(message, details={"non_field_errors": [message]})
    fields = READING_FIELDS if sensor is None else MESSAGE_FIELDS
    unknown = {str(key): ["Unknown field."] for key in row if key not in fields}
    if sensor is not None and "sensor" in row:
        unknown["sensor"] = [SENSOR_GIVEN_MESSAGE]
    try:
        parsed = reading_parse(
            sensor=row.get("sensor", MISSING) if sensor is None else sensor,
            timestamp=row.get("timestamp", MISSING),
            value=row.get("value", MISSING),
            known=known,
        )
    except InvalidInput as exc:
        if not unknown:
            raise
        assert isinstance(exc.details, dict)  # reading_parse names fields
        details = {**unknown, **exc.details}
    else:
        if not unknown:
            return parsed
        details = unknown
    raise InvalidInput(" ".join(m for ms in details.values() for m in ms), details=details)


def readings_batch(document: object) -> list[Any]:
    """The readings of a JSON document: one object, or a list of 1 to ``MAX_BATCH``.

    Raises ``InvalidInput`` for any other shape and ``TooLarge`` (``batch_too_large``) beyond
    ``MAX_BATCH``. Cheap: callers check the shape before they look anything up.
    """
    if isinstance(document, dict):
        return [document]
    if not isinstance(document, list):
        raise InvalidInput.for_field(
            "non_field_errors", "Send one reading object or a list of reading objects."
        )
    if not document:
        raise InvalidInput.for_field("non_field_errors", "The list of readings is empty.")
    if len(document) > MAX_BATCH:
        raise TooLarge(
            f"At most {MAX_BATCH} readings at once; this list has {len(document)}.",
            code="batch_too_large",
        )
    return document


def readings_from_json(
    document: object, *, known: Mapping[str, int], sensor: str | None = None
) -> list[ReadingRow]:
    """A JSON document of readings (see ``readings_batch``, ``reading_from_json``), all or none.

    Raises ``InvalidInput`` whose details name the fields of a single object, or hold one entry
    per row of a list (``{}`` for a good one).
    """
    batch = readings_batch(document)
    parsed = _json_fast(batch, known, sensor)
    if parsed is not None:
        return parsed
    if isinstance(document, dict):
        return [reading_from_json(document, known=known, sensor=sensor)]
    rows: list[ReadingRow] = []
    errors: list[Any] = []
    for row in batch:
        try:
            rows.append(reading_from_json(row, known=known, sensor=sensor))
            errors.append({})
        except InvalidInput as exc:
            errors.append(exc.details)
    if len(rows) != len(batch):
        bad = len(batch) - len(rows)
        raise InvalidInput(f"{bad} of {len(batch)} readings are invalid.", details=errors)
    return rows


def plain_readings_from_json(
    batch: Sequence[object], *, known: Mapping[str, int], sensor: str | None = None
) -> list[ReadingRow] | None:
    """The fast path alone: every row of ``batch`` when all are plainly valid, else None.

    None says nothing is wrong yet, only that the rules (``readings_from_json``) must decide.
    Any slice of a batch can be checked on its own, so a caller may store one slice while it
    checks the next.
    """
    return _json_fast(batch, known, sensor)


def _json_fast(
    batch: Sequence[object], known: Mapping[str, int], sensor: str | None
) -> list[ReadingRow] | None:
    """The whole batch when every row is well-formed and plainly valid, else None.

    A few dict lookups per row (this loop runs for every reading a device sends); anything
    unusual is left to the rules, which explain it.
    """
    fields = 3
    sensor_id = 0
    if sensor is not None:
        if sensor not in known:
            return None
        fields, sensor_id = 2, known[sensor]
    rows: list[ReadingRow] = []
    append = rows.append
    fromisoformat = datetime.fromisoformat
    for row in batch:
        if not isinstance(row, dict) or len(row) != fields:
            return None
        try:
            if sensor is None:
                sensor_id = known[row["sensor"]]
            value = row["value"]
            raw = row["timestamp"]
            timestamp = fromisoformat(raw)
        except (KeyError, TypeError, ValueError):
            return None
        # fromisoformat takes any number of fraction digits and a trailing NUL; a naive time,
        # or a year whose move to UTC may leave the calendar, is for the rules to judge.
        # (Offsets need no conversion here: the writer sends instants.)
        if (
            len(raw) > TIMESTAMP_MAX_LENGTH
            or "\x00" in raw
            or timestamp.tzinfo is None
            or not 1 < timestamp.year < 9999
        ):
            return None
        if type(value) is float:
            if value - value != 0:  # NaN and +-inf
                return None
        elif type(value) is int and -(2**53) <= value <= 2**53:
            value = float(value)
        else:
            return None
        append((sensor_id, timestamp, value))
    return rows


def reading_from_csv(cells: Sequence[str], *, known: Mapping[str, int]) -> ReadingRow:
    """One long-format CSV line, ``timestamp,sensor,value``, through the rules only.

    Spaces around the sensor code and the timestamp are ignored. A code escaped against
    formulas, as the CSV export writes it (``'-probe``), is read as the code (``-probe``; see
    ``targets_site.csv_text``). Raises ``InvalidInput``; its ``message`` says everything wrong
    with the line in one sentence or a few.
    """
    if len(cells) != 3:
        message = f"Expected 3 fields (timestamp,sensor,value), found {len(cells)}."
        raise InvalidInput(message, details={"non_field_errors": [message]})
    raw_timestamp, code, raw_value = cells
    return reading_parse(
        sensor=csv_unescape_formula(code.strip()),
        timestamp=raw_timestamp.strip(),
        value=raw_value,
        known=known,
        text=True,
    )


def readings_from_csv(
    lines: Sequence[Sequence[str]], *, known: Mapping[str, int]
) -> list[ReadingRow]:
    """Long-format CSV lines (see ``reading_from_csv``), all or none.

    Raises ``InvalidInput`` whose details hold one entry per line: ``{}`` for a good line, else
    the ``message`` of that line's error (a string, ready to print after its line number).
    """
    parsed = _csv_fast(lines, known)
    if parsed is not None:
        return parsed
    rows: list[ReadingRow] = []
    errors: list[Any] = []
    for cells in lines:
        try:
            rows.append(reading_from_csv(cells, known=known))
            errors.append({})
        except InvalidInput as exc:
            errors.append(exc.message)
    if len(rows) != len(lines):
        bad = len(lines) - len(rows)
        raise InvalidInput(f"{bad} of {len(lines)} lines are invalid.", details=errors)
    return rows


def _csv_fast(lines: Sequence[Sequence[str]], known: Mapping[str, int]) -> list[ReadingRow] | None:
    """Every line when all are plainly valid, else None: a million-line file runs this loop."""
    rows: list[ReadingRow] = []
    append = rows.append
    fromisoformat = datetime.fromisoformat
    for cells in lines:
        try:
            raw_timestamp, code, raw_value = cells
            timestamp = fromisoformat(raw_timestamp)
            value = float(raw_value)
            # A code the export escaped ('-probe) is read as the code, as the rules read it;
            # looking for a quote first costs a few ns a line, the unescape ~20.
            sensor_id = known[code if "'" not in code else csv_unescape_formula(code)]
        except (ValueError, KeyError):
            return None
        # value - value is NaN for NaN and +-inf; see _json_fast for the timestamp checks.
        if (
            value - value != 0
            or timestamp.tzinfo is None
            or not 1 < timestamp.year < 9999
            or len(raw_timestamp) > TIMESTAMP_MAX_LENGTH
            or "\x00" in raw_timestamp
        ):
            return None
        append((sensor_id, timestamp, value))
    return rows


def reading_json_schema(*, sensor_in_body: bool = True) -> dict[str, Any]:
    """The JSON Schema of a reading object, for the OpenAPI description of the API."""
    properties: dict[str, Any] = {
        "sensor": {"type": "string", "maxLength": 50, "description": "A sensor's code."},
        "timestamp": {
            "type": "string",
            "format": "date-time",
            "maxLength": TIMESTAMP_MAX_LENGTH,
            "description": "ISO-8601 with a UTC offset, e.g. 'Z' or '+01:00' (naive is a 400).",
        },
        "value": {"type": "number", "description": "A finite number (no NaN or Infinity)."},
    }
    fields = READING_FIELDS if sensor_in_body else MESSAGE_FIELDS
    return {
        "type": "object",
        "properties": {name: properties[name] for name in fields},
        "required": list(fields),
        "additionalProperties": False,
    }
