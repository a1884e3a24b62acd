"""Read item rows from CSV, JSON or JSON Lines, each with the line it starts on.

Framework-free: takes a text stream, yields ``(line_number, row_dict)``; malformed files raise
``ImportFormatError`` with the line where reading stopped. CSV cells escaped against formulas by
the export (``'=x``, ``''x``) are unescaped (``targets_site.csv_text``), so an exported file
imports back unchanged.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from targets_site.csv_text import csv_unescape_formula

FORMATS = ("csv", "json", "jsonl")

# Columns an items export carries that an import never sets (the database assigns them), so an
# exported file imports back as it is (round trip); they are dropped, not refused.
EXPORT_ONLY_COLUMNS = frozenset({"id", "created_at", "updated_at"})
_WHITESPACE = re.compile(r"[ \t\r\n]*")  # JSON's insignificant whitespace


class ImportFormatError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def format_for(path: str) -> str | None:
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return {"csv": "csv", "json": "json", "jsonl": "jsonl", "ndjson": "jsonl"}.get(suffix)


def read_rows(stream: IO[str], fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt == "csv":
        rows = _read_csv(stream)
    elif fmt == "jsonl":
        rows = _read_jsonl(stream)
    elif fmt == "json":
        rows = _read_json(stream.read())
    else:
        raise ValueError(f"unknown format {fmt!r}")
    for line, row in rows:
        if EXPORT_ONLY_COLUMNS.intersection(row):
            row = {key: value for key, value in row.items() if key not in EXPORT_ONLY_COLUMNS}
        yield line, row


def _read_csv(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(stream, strict=True)
    try:
        if not reader.fieldnames:
            raise ImportFormatError(1, "the file is empty (a header row is required)")
        for row in reader:
            if None in row:
                raise ImportFormatError(reader.line_num, "more cells than header columns")
            # Empty cells mean "not given" so defaults apply, except where blank is meaningful.
            # Cells an export escaped against formulas ('=x) come back as they were (=x); a
            # short row's missing cells are None, for the validation to report.
            yield (
                reader.line_num,
                {
                    key: csv_unescape_formula(value) if value else value
                    for key, value in row.items()
                    if value != "" or key == "description"
                },
            )
    except csv.Error as exc:
        raise ImportFormatError(reader.line_num, f"malformed CSV: {exc}") from None


def _read_jsonl(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ImportFormatError(number, f"malformed JSON: {exc}") from None
        if not isinstance(row, dict):
            raise ImportFormatError(number, "each line must be a JSON object")
        yield number, row


def _read_json(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Walk a top-level JSON array object by object, so each row knows its line number."""
    decoder = json.JSONDecoder()
    # Positions only move forward, so each call counts the newlines since the previous one:
    # the whole walk reads the text once (counting from the start each time was quadratic).
    counted = {"pos": 0, "line": 1}

    def line_at(pos: int) -> int:
        counted["line"] += text.count("\n", counted["pos"], pos)
        counted["pos"] = pos
        return counted["line"]

    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "[":
        raise ImportFormatError(line_at(pos), "a JSON file must hold one array of objects")
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    while True:
        try:
            row, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            raise ImportFormatError(line_at(pos), f"malformed JSON: {exc}") from None
        if not isinstance(row, dict):
            raise ImportFormatError(line_at(pos), "each array entry must be an object")
        yield line_at(pos), row
        pos = _skip_ws(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if _skip_ws(text, pos + 1) != len(text):
                raise ImportFormatError(line_at(pos), "unexpected data after the array")
            return
        raise ImportFormatError(line_at(pos), "expected ',' or ']' after an object")


def _skip_ws(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos
