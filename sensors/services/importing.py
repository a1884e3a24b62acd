"""``manage.py import_readings``: stream a CSV of readings into the database, all or nothing.

Two layouts, told apart by the header:

- long: ``timestamp,sensor,value`` — one reading per line;
- wide: ``timestamp,<code>,<code>...`` — one line per timestamp, one column per sensor; an empty
  cell is no reading.

Rows are validated and written in chunks while the file is read, so memory stays flat whatever
its size. The first bad row stops the writing; reading continues only to report up to
``max_errors`` bad rows by line number, then the transaction is rolled back. The stream must be
seekable: on PostgreSQL a file that repeats stored readings is read a second time (see
``write_readings``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from sensors.models import Sensor
from sensors.parsing import parse_timestamp, parse_value_text
from sensors.services.ingest import ReadingRow, ReadingWriter, write_readings
from targets_site.errors import InvalidInput

_CHUNK = 10_000
LONG_HEADER = ["timestamp", "sensor", "value"]


@dataclass(frozen=True)
class ImportSummary:
    layout: str
    lines: int
    readings: int
    created: int


class ReadingsImportError(InvalidInput):
    """Bad lines of an import, ``(line number, message)`` each; details are keyed ``line N``."""

    def __init__(self, errors: list[tuple[int, str]], truncated: bool = False) -> None:
        self.errors = errors
        self.truncated = truncated
        first_line, first_message = errors[0]
        details: dict[str, list[str]] = {}
        for line, message in errors:
            details.setdefault(f"line {line}", []).append(message)
        super().__init__(f"line {first_line}: {first_message}", details=details)


def readings_import(
    *,
    stream: TextIO,
    max_errors: int = 20,
    on_lines: Callable[[int], object] | None = None,
) -> ImportSummary:
    """Import readings from an open text stream; raises ReadingsImportError naming bad lines."""
    # The header is read on its own so the body can be re-read from ``body_start``.
    first_line = stream.readline()
    if not first_line.strip():
        raise ReadingsImportError([(1, "The file is empty; expected a header line.")])
    try:
        header = [cell.strip() for cell in next(csv.reader([first_line]))]
    except StopIteration:
        raise ReadingsImportError([(1, "The file is empty; expected a header line.")]) from None
    except csv.Error as exc:
        raise ReadingsImportError([(1, f"Unreadable header: {exc}.")]) from None
    known = dict(Sensor.objects.values_list("code", "id"))
    errors: list[tuple[int, str]] = []

    lowered = [cell.lower() for cell in header]
    # The long columns in any order: an exported readings CSV (sensor,timestamp,value) imports
    # back as it is.
    order = (
        [lowered.index(name) for name in LONG_HEADER]
        if sorted(lowered) == sorted(LONG_HEADER)
        else None
    )
    reorder = order if order is not None and order != [0, 1, 2] else None
    if order is not None:
        layout = "long"
        columns: list[int] = []
    elif header and header[0].lower() == "timestamp" and len(header) > 1:
        layout = "wide"
        found = [known.get(code) for code in header[1:]]
        unknown = [code for code, sensor_id in zip(header[1:], found, strict=True) if not sensor_id]
        duplicated = sorted({code for code in header[1:] if header[1:].count(code) > 1})
        if unknown:
            errors.append((1, f"Unknown sensor codes in the header: {', '.join(unknown[:10])}."))
        if duplicated:
            errors.append((1, f"Sensor codes repeated in the header: {', '.join(duplicated)}."))
        if errors:
            raise ReadingsImportError(errors)
        columns = [sensor_id for sensor_id in found if sensor_id]  # every one is known here
    else:
        raise ReadingsImportError(
            [
                (
                    1,
                    "Expected the header 'timestamp,sensor,value' (in any order) or "
                    "'timestamp,<code>,<code>...'.",
                )
            ]
        )

    body_start = stream.tell()
    counts = {"lines": 0, "readings": 0}

    def produce(writer: ReadingWriter) -> None:
        # Runs twice when a direct COPY meets readings already stored: start from the top.
        stream.seek(body_start)
        reader = csv.reader(stream)
        counts["lines"] = counts["readings"] = 0
        errors: list[tuple[int, str]] = []
        truncated = False
        chunk: list[ReadingRow] = []
        fromisoformat = datetime.fromisoformat
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                errors.append((reader.line_num + 1, f"Unreadable line: {exc}."))
                break
            line = reader.line_num + 1  # + the header line, read before
            counts["lines"] += 1
            if on_lines is not None and counts["lines"] % _CHUNK == 0:
                on_lines(_CHUNK)
            if not row:
                continue  # a blank line
            if reorder is not None and len(row) == 3:
                row = [row[reorder[0]], row[reorder[1]], row[reorder[2]]]
            if layout == "long" and not errors:
                # The common case inline (this loop runs once per line of a million-line file);
                # anything unusual goes to _long_row, which accepts or explains it.
                try:
                    raw_timestamp, code, raw_value = row
                    timestamp = fromisoformat(raw_timestamp)
                    value = float(raw_value)
                    # value - value is NaN for NaN and ±inf; years 1 and 9999 may not survive
                    # the move to UTC, so the slow path checks those.
                    if (
                        timestamp.tzinfo is not None
                        and value - value == 0
                        and (1 < timestamp.year < 9999)
                    ):
                        chunk.append((known[code], timestamp, value))
                        counts["readings"] += 1
                        if len(chunk) >= _CHUNK:
                            writer.write(chunk)
                            chunk = []
                        continue
                except (ValueError, KeyError):
                    pass
            try:
                parsed = _long_row(row, known) if layout == "long" else _wide_row(row, columns)
            except ValueError as exc:
                errors.append((line, str(exc)))
                if len(errors) >= max_errors:
                    truncated = True
                    break
                continue
            if errors:
                continue  # keep reading only to report more bad lines
            counts["readings"] += len(parsed)
            chunk.extend(parsed)
            if len(chunk) >= _CHUNK:
                writer.write(chunk)
                chunk = []
        if on_lines is not None and counts["lines"] % _CHUNK:
            on_lines(counts["lines"] % _CHUNK)
        if errors:
            raise ReadingsImportError(errors, truncated)
        writer.write(chunk)

    writer = write_readings(produce)
    return ImportSummary(
        layout=layout, lines=counts["lines"], readings=counts["readings"], created=writer.created
    )


def _long_row(row: list[str], known: dict[str, int]) -> list[ReadingRow]:
    if len(row) != 3:
        raise ValueError(f"Expected 3 fields (timestamp,sensor,value), found {len(row)}.")
    raw_timestamp, code, raw_value = row
    sensor_id = known.get(code.strip())
    if sensor_id is None:
        raise ValueError(f"Unknown sensor code {code.strip()[:60]!r}.")
    timestamp = parse_timestamp(raw_timestamp.strip())
    return [(sensor_id, timestamp, parse_value_text(raw_value))]


def _wide_row(row: list[str], columns: list[int]) -> list[ReadingRow]:
    if len(row) != len(columns) + 1:
        raise ValueError(f"Expected {len(columns) + 1} fields, found {len(row)}.")
    timestamp = parse_timestamp(row[0].strip())
    parsed = []
    for sensor_id, cell in zip(columns, row[1:], strict=True):
        cell = cell.strip()
        if cell:
            parsed.append((sensor_id, timestamp, parse_value_text(cell)))
    return parsed
