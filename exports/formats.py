"""Format writers for exports: CSV, JSON (one streamed array) and JSON Lines, optionally gzipped.

Framework-free: rows in (tuples in column order), bytes out to a binary file, with the row count,
byte count and sha256 of exactly the bytes written (after gzip), so the export record describes the
stored object and a user can check a download with ``sha256sum``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring as _json_string
from typing import TYPE_CHECKING, Any, BinaryIO

from targets_site.csv_text import csv_escape_formula

if TYPE_CHECKING:
    from typing_extensions import Buffer

FORMATS = ("csv", "json", "jsonl")  # written here; parquet is in exports/parquet.py

# One write per this many bytes of CSV text: fewer, larger writes into gzip and the digest.
_TEXT_BUFFER = 256 * 1024


@dataclass(frozen=True)
class WrittenFile:
    rows: int
    bytes: int
    sha256: str


class DigestWriter(io.RawIOBase):
    """A write-only binary stream that counts and hashes every byte passed on to ``target``."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self._target = target
        self._sha256 = hashlib.sha256()
        self.bytes_written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data).cast("B")
        # All of it or an error: an unbuffered file may take only part of a block (a full disk, a
        # file-size limit) and says so only by its count; the next write then raises. (A target
        # that returns no count took it all.)
        done = 0
        while done < view.nbytes:
            written = self._target.write(view[done:])
            done = view.nbytes if written is None else done + written
        self._sha256.update(view)
        self.bytes_written += done
        return done

    def flush(self) -> None:
        self._target.flush()

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


def datetime_text(value: dt.datetime) -> str:
    """UTC ISO 8601 with ``Z``, microseconds only when there are any (as the API renders it)."""
    if value.tzinfo is None:
        return value.isoformat()
    if value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.isoformat()[:-6] + "Z"  # drop "+00:00"


def datetime_json_text(value: dt.datetime) -> str:
    """A time in JSON exports: ISO 8601 UTC with ``Z``, the fraction's trailing zeros trimmed
    (``2026-01-02T03:04:05.12Z``), which is PostgreSQL's ``to_json`` text with ``Z`` for
    ``+00:00``: the COPY path then needs no ``to_char``, which costs more than the rest of the
    row."""
    text = datetime_text(value)
    if value.tzinfo is not None and value.microsecond:
        text = text[:-1].rstrip("0") + "Z"
    return text


def datetime_csv_text(value: dt.datetime) -> str:
    """A time as PostgreSQL writes a UTC timestamptz (``2026-01-02 03:04:05.12+00``).

    CSV exports use PostgreSQL's own text so its COPY can write them without per-row
    formatting (which costs more than the COPY itself); the Python writer matches it byte for
    byte. JSON keeps ISO 8601 with ``T`` and ``Z``, as the API does.
    """
    if value.tzinfo is None:
        return value.isoformat(sep=" ")
    if value.utcoffset():
        value = value.astimezone(dt.UTC)
    text = value.isoformat(sep=" ")[:-6]  # drop "+00:00"
    if value.microsecond:
        text = text.rstrip("0")  # PostgreSQL trims the fraction's trailing zeros
    return text + "+00"


def float_text(value: float) -> str:
    """A float as PostgreSQL writes a ``float8`` (shortest round-tripping digits): ``65`` for
    ``65.0``, exponent form from 1e15 and below 1e-4 (``1e+15``, ``-1.25e-07``), so the Python
    writers and the database's COPY write the same text."""
    text = repr(value)
    if "e" not in text:
        if value != 0 and not 1e-4 <= abs(value) < 1e15:
            return _float_exponent_text(value)  # inf, nan and [1e15, 1e16): repr differs
        return text[:-2] if text.endswith(".0") else text
    return text  # Python and PostgreSQL agree on exponent form below 1e-4 and from 1e16


def _float_exponent_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    scale = exponent + len(mantissa) - 1
    if len(mantissa) > 1:
        mantissa = mantissa[0] + "." + mantissa[1:]
    return f"{'-' if sign else ''}{mantissa}e{'+' if scale >= 0 else '-'}{abs(scale):02d}"


def csv_cell(value: Any) -> Any:
    """One value as CSV text: text escaped against formulas, NULL as an empty cell."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return csv_escape_formula(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return float_text(value)
    if kind is int or kind is Decimal:
        return value
    if isinstance(value, dt.datetime):
        return datetime_csv_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return csv_escape_formula(str(value))


def json_text(value: Any) -> str:
    """One value as JSON text, as PostgreSQL builds it for the COPY path (``exports.datasets.sql``):
    decimals as strings (exact, as the API sends prices), datetimes as ``datetime_json_text``,
    floats as ``float_text``."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _json_string(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        if value - value != 0:
            raise ValueError(f"{value!r} has no JSON form.")
        return float_text(value)
    if kind is Decimal:
        return '"' + str(value) + '"'
    if isinstance(value, dt.datetime):
        return '"' + datetime_json_text(value) + '"'
    if isinstance(value, dt.date | dt.time):
        return '"' + value.isoformat() + '"'
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _json_string(str(value))


def _csv_write(out: BinaryIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    # CPython's TextIOWrapper write buffer size: an implementation attribute typeshed omits.
    text._CHUNK_SIZE = _TEXT_BUFFER  # type: ignore[attr-defined]
    writer = csv.writer(text, lineterminator="\n")
    # Python 3.11's writer quotes only the characters of its own line terminator, so a bare
    # "\r" in a cell would go out unquoted and split the record; such rare rows take a CRLF
    # writer (which quotes "\r") and get their terminator put back to "\n", as COPY writes it.
    crlf_buffer = io.StringIO()
    crlf_writer = csv.writer(crlf_buffer, lineterminator="\r\n")
    writer.writerow([csv_escape_formula(name) for name in columns])
    count = 0
    for row in rows:
        cells = [csv_cell(value) for value in row]
        if any(type(cell) is str and "\r" in cell for cell in cells):
            crlf_buffer.seek(0)
            crlf_buffer.truncate()
            crlf_writer.writerow(cells)
            text.write(crlf_buffer.getvalue()[:-2] + "\n")
        else:
            writer.writerow(cells)
        count += 1
    text.flush()
    text.detach()
    return count


def _json_lines(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """``{"name":value,...}`` per row: compact, keys in column order, non-ASCII as is."""
    keys = [_json_string(name) + ":" for name in columns]
    for row in rows:
        yield (
            "{"
            + ",".join(key + json_text(value) for key, value in zip(keys, row, strict=True))
            + "}"
        )


def _buffered_write(out: BinaryIO, pieces: Iterable[str]) -> None:
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= _TEXT_BUFFER:
            out.write("".join(buffer).encode())
            buffer.clear()
            size = 0
    if buffer:
        out.write("".join(buffer).encode())


def _jsonl_write(out: BinaryIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0

    def pieces() -> Iterator[str]:
        nonlocal count
        for line in _json_lines(columns, rows):
            count += 1
            yield line + "\n"

    _buffered_write(out, pieces())
    return count


def _json_write(out: BinaryIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """One JSON array, written element by element: never the whole list in memory."""
    count = 0

    def pieces() -> Iterator[str]:
        nonlocal count
        yield "["
        for line in _json_lines(columns, rows):
            yield ("\n" if count == 0 else ",\n") + line
            count += 1
        yield "\n]\n" if count else "]\n"

    _buffered_write(out, pieces())
    return count


_WRITERS: dict[str, Callable[[BinaryIO, Sequence[str], Iterable[Sequence[Any]]], int]] = {
    "csv": _csv_write,
    "json": _json_write,
    "jsonl": _jsonl_write,
}


@contextmanager
def digest_stream(target: BinaryIO, *, compress: bool) -> Iterator[tuple[BinaryIO, DigestWriter]]:
    """Yield ``(stream to write, digest)``; gzip sits between them when ``compress`` is on.

    The gzip header carries no name or time (``mtime=0``), so the same rows give the same bytes.
    """
    digest = DigestWriter(target)
    if not compress:
        # The writers take a BinaryIO; DigestWriter and GzipFile are binary streams with every
        # method they use, but not that nominal type.
        yield digest, digest  # type: ignore[misc]
        digest.flush()
        return
    zipped = gzip.GzipFile(fileobj=digest, mode="wb", compresslevel=6, mtime=0)
    yield zipped, digest  # type: ignore[misc]
    zipped.close()  # writes the gzip trailer; leaves ``digest`` and ``target`` open
    digest.flush()


def rows_write(
    *,
    target: BinaryIO,
    fmt: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    compress: bool = False,
) -> WrittenFile:
    """Write ``rows`` (tuples in ``columns`` order) to ``target`` in ``fmt``; return the counts."""
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    with digest_stream(target, compress=compress) as (stream, digest):
        count = writer(stream, columns, rows)
    return WrittenFile(rows=count, bytes=digest.bytes_written, sha256=digest.sha256)


def csv_header(columns: Sequence[str]) -> bytes:
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([csv_escape_formula(name) for name in columns])
    return header.getvalue().encode()


_BLOCK = 1024 * 1024


def file_copy_digest(*, source: BinaryIO, target: BinaryIO, compress: bool) -> tuple[int, str]:
    """Copy ``source`` to ``target`` (gzipped when ``compress``) in 1 MB blocks; return the
    byte count and sha256 of what was written."""
    with digest_stream(target, compress=compress) as (stream, digest):
        while block := source.read(_BLOCK):
            stream.write(block)
    return digest.bytes_written, digest.sha256


class TailHolder(io.RawIOBase):
    """A write-only stream that passes everything on to ``target`` but its last ``size`` bytes,
    which it holds until ``end`` replaces them: how a streamed file gets a different ending than
    its pieces (a JSON array's last element has no ``,``) while every other byte goes to disk,
    and to the digest, as it comes."""

    def __init__(self, target: io.RawIOBase, size: int) -> None:
        super().__init__()
        self._target = target
        self._size = size
        self.tail = b""

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data).cast("B")
        count = view.nbytes
        if count >= self._size:
            self._target.write(self.tail)
            self._target.write(view[: count - self._size])
            self.tail = bytes(view[count - self._size :])
        else:
            held = self.tail + bytes(view)
            self._target.write(held[: len(held) - self._size])
            self.tail = held[len(held) - self._size :]
        return count

    def end(self, tail: bytes, replacement: bytes) -> None:
        """Write ``replacement`` for the held ``tail`` (which must be what was held)."""
        if self.tail != tail:
            raise ValueError(f"The file ends {self.tail!r}, not {tail!r}.")
        self._target.write(replacement)
        self.tail = b""


@contextmanager
def hashed_file(
    path: str | os.PathLike[str], *, hold_tail: int = 0
) -> Iterator[tuple[BinaryIO, DigestWriter]]:
    """A new file at ``path`` for buffered writing, counted and hashed as its 1 MB blocks go to
    disk: the finished file needs no second read to hash (~40 MB for 1M readings).

    With ``hold_tail``, the stream's ``raw`` is a ``TailHolder`` keeping that many last bytes
    back: flush the stream, then ``stream.raw.end(...)`` them."""
    with open(path, "wb", buffering=0) as raw:
        digest = DigestWriter(raw)
        below: io.RawIOBase = TailHolder(digest, hold_tail) if hold_tail else digest
        with io.BufferedWriter(below, buffer_size=_BLOCK) as stream:
            yield stream, digest


def file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """Byte count and sha256 of a finished file."""
    sha256 = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            sha256.update(block)
            size += len(block)
    return size, sha256.hexdigest()
