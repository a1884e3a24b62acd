"""``manage.py import_readings``: stream a CSV of readings into the database, all or nothing.

Two layouts, told apart by the header:

- long: ``timestamp,sensor,value`` — one reading per line;
- wide: ``timestamp,<code>,<code>...`` — one line per timestamp, one column per sensor; an empty
  cell is no reading.

Sensor codes escaped against formulas, as the CSV export writes them (``'-probe``), are read as
the codes (``-probe``; see ``targets_site.csv_text``), so an exported file imports back as it is.

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
from typing import Any, TextIO

from sensors.models import Sensor
from sensors.parsing import ReadingRow, parse_timestamp, parse_value_text, readings_from_csv
from sensors.services.ingest import ReadingWriter, write_readings
from targets_site.csv_text import csv_unescape_formula
from targets_site.errors import InvalidInput

_CHUNK = 10_000
# Lines are parsed a few hundred at a time: one call per batch rather than per line, and the
# batch is still in the CPU cache when it is parsed (10,000 at a time was 40% slower).
_PARSE_LINES = 500
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
        header[1:] = [csv_unescape_formula(code) for code in header[1:]]  # '-probe: -probe
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

    if layout == "long":
        batch_lines = _PARSE_LINES

        def parse(lines: list[list[str]]) -> list[ReadingRow]:
            return readings_from_csv(lines, known=known)
    else:
        batch_lines = max(1, _PARSE_LINES // len(columns))

        def parse(lines: list[list[str]]) -> list[ReadingRow]:
            return _wide_rows(lines, columns)

    def produce(writer: ReadingWriter) -> None:
        # Runs twice when a direct COPY meets readings already stored: start from the top.
        stream.seek(body_start)
        reader = csv.reader(stream)
        counts["lines"] = counts["readings"] = 0
        errors: list[tuple[int, str]] = []
        # Lines wait here, with their numbers, to be parsed a batch at a time.
        waiting: list[list[str]] = []
        numbers: list[int] = []
        chunk: list[ReadingRow] = []

        def take_waiting() -> bool:
            """Parse the waiting lines, writing while no line was bad; False: stop reading."""
            nonlocal chunk
            try:
                parsed = parse(waiting)
            except InvalidInput as exc:
                for number, problem in zip(numbers, exc.details, strict=True):
                    if problem:
                        errors.append((number, problem))
                        if len(errors) >= max_errors:
                            return False
                return True
            finally:
                waiting.clear()
                numbers.clear()
            if not errors:  # after a bad line, reading goes on only to report more of them
                counts["readings"] += len(parsed)
                chunk += parsed
                if len(chunk) >= _CHUNK:
                    writer.write(chunk)
                    chunk = []
            return True

        stopped = False  # at max_errors bad lines
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                stopped = not take_waiting()
                if not stopped:
                    errors.append((reader.line_num + 1, f"Unreadable line: {exc}."))
                break
            counts["lines"] += 1
            if on_lines is not None and counts["lines"] % _CHUNK == 0:
                on_lines(_CHUNK)
            if not row:
                continue  # a blank line
            if reorder is not None and len(row) == 3:
                row = [row[reorder[0]], row[reorder[1]], row[reorder[2]]]
            waiting.append(row)
            numbers.append(reader.line_num + 1)  # + the header line, read before
            if len(waiting) >= batch_lines and not take_waiting():
                stopped = True
                break
        if waiting and not stopped:
            stopped = not take_waiting()
        if on_lines is not None and counts["lines"] % _CHUNK:
            on_lines(counts["lines"] % _CHUNK)
        if errors:
            raise ReadingsImportError(errors, truncated=stopped)
        writer.write(chunk)

    writer = write_readings(produce)
    return ImportSummary(
        layout=layout, lines=counts["lines"], readings=counts["readings"], created=writer.created
    )


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


def _wide_rows(lines: list[list[str]], columns: list[int]) -> list[ReadingRow]:
    """Wide-format lines, all or none, raising like ``readings_from_csv``."""
    parsed: list[ReadingRow] = []
    problems: list[Any] = []
    for row in lines:
        try:
            parsed.extend(_wide_row(row, columns))
            problems.append({})
        except ValueError as exc:
            problems.append(str(exc))
    if len(problems) != sum(1 for problem in problems if not problem):
        raise InvalidInput("Some lines are invalid.", details=problems)
    return parsed
