"""Parquet files through pyarrow, written one row group at a time so memory stays flat.

Two inputs, the same table out (a differential test pins it):

- ``parquet_from_rows``: Python values (the ORM's rows), ``ROW_GROUP_ROWS`` at a time;
- ``parquet_from_csv``: a headerless CSV of plain values written by PostgreSQL's COPY
  (``exports.datasets.sql.raw_queryset``), parsed by pyarrow's CSV reader piece by piece.

pyarrow is imported here, where it is used: commands that do not write Parquet never load it.
Memory (peak RSS of a whole ``export_data`` process, readings): 110-111 MB at 100k rows and at
1M, of which ~57 MB is Django before the export and the rest mostly pyarrow's import (with numpy,
which it loads); anonymous memory 56-58 MB. Right after pyarrow is installed its shared
libraries sit in the page cache in large folios, which a process maps whole: 142 MB then (see
docs/PERFORMANCE.md, exports).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

# Arrow's default allocator: the C library's, not the wheel's mimalloc, which keeps what it
# reserved: an export process peaked at 124-129 MB instead of 112 MB (readings, 100k and 1M
# rows). Arrow reads this when it first allocates, so it is set before any pyarrow use here (this
# module is imported only to write Parquet); a process that used pyarrow before keeps its own.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# 64k rows: a few MB of Arrow buffers per group, and groups large enough for readers to skim.
ROW_GROUP_ROWS = 65_536
# COPY's CSV is parsed in pieces of about this size, gathered into ROW_GROUP_ROWS groups.
_CSV_BLOCK = 256 * 1024


def arrow_type(kind: str, decimal: tuple[int, int] | None = None) -> pa.DataType:
    import pyarrow as pa

    if kind == "decimal":
        precision, scale = decimal or (38, 10)
        return pa.decimal128(precision, scale)
    return {
        "text": pa.string(),
        "uuid": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "datetime": pa.timestamp("us", tz="UTC"),
    }[kind]


def arrow_schema(columns: Sequence[tuple[str, pa.DataType]]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(name, kind) for name, kind in columns])


def parquet_from_rows(path: Path, schema: pa.Schema, rows: Iterable[Sequence[Any]]) -> int:
    """Write ``rows`` (tuples in schema order) to ``path``; return the row count."""
    import pyarrow as pa

    count = 0
    with _parquet_writer(path, schema) as writer:
        group: list[Sequence[Any]] = []
        for row in rows:
            group.append(row)
            if len(group) == ROW_GROUP_ROWS:
                writer.write_table(_table(pa, schema, group))
                count += len(group)
                group = []
        if group or count == 0:
            writer.write_table(_table(pa, schema, group))
            count += len(group)
    return count


def _table(pa: ModuleType, schema: pa.Schema, rows: list[Sequence[Any]]) -> pa.Table:
    arrays = []
    for index, field in enumerate(schema):
        values = [row[index] for row in rows]
        if field.type == pa.string():
            values = [str(v) if isinstance(v, uuid.UUID) else v for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def parquet_from_csv(path: Path, schema: pa.Schema, csv_path: Path) -> int:
    """Convert COPY's headerless CSV (booleans t/f, times as epoch µs) to Parquet at ``path``.

    The file is cut into ~256 kB pieces at record boundaries (a newline after an even number of
    quote characters: COPY doubles a quote inside a value) and each piece is parsed on its own;
    pyarrow's streaming reader (``open_csv``) kept ~25 MB more per million rows read. Times are
    read as int64 and viewed as timestamps (no copy, and no ``pyarrow.compute``: ~10 MB).
    """
    import io

    import pyarrow as pa
    import pyarrow.csv as pcsv

    read_types = {
        field.name: pa.int64() if pa.types.is_timestamp(field.type) else field.type
        for field in schema
    }
    read_options = pcsv.ReadOptions(column_names=schema.names, use_threads=False)
    parse_options = pcsv.ParseOptions(newlines_in_values=True)
    convert_options = pcsv.ConvertOptions(
        column_types=read_types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,  # COPY writes '' quoted, NULL bare
        true_values=["t"],
        false_values=["f"],
    )
    count = 0
    group: list[pa.Table] = []
    rows_in_group = 0
    with open(csv_path, "rb") as source, _parquet_writer(path, schema) as writer:
        for piece in _csv_pieces(source):
            table = pcsv.read_csv(
                io.BytesIO(piece),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            columns = [
                _as_type(pa, column, field.type)
                for column, field in zip(table.columns, schema, strict=True)
            ]
            group.append(pa.Table.from_arrays(columns, schema=schema))
            rows_in_group += table.num_rows
            if rows_in_group >= ROW_GROUP_ROWS:
                writer.write_table(pa.concat_tables(group))
                count += rows_in_group
                group, rows_in_group = [], 0
        if group or count == 0:
            writer.write_table(pa.concat_tables(group) if group else schema.empty_table())
            count += rows_in_group
    return count


def _as_type(pa: ModuleType, column: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    if column.type == kind:
        return column
    # int64 epoch µs -> timestamp: the same 8 bytes, only the type differs.
    return pa.chunked_array([chunk.view(kind) for chunk in column.chunks], kind)


def _parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A writer with dictionary pages for text columns only: times and measurements rarely
    repeat, and their dictionaries (tried first, then dropped) cost memory and time and made
    files larger (1M readings: 8.0 MB instead of 9.2 MB, ~10 MB less memory).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = [field.name for field in schema if pa.types.is_string(field.type)]
    return pq.ParquetWriter(path, schema, use_dictionary=text)


def _csv_pieces(source: BinaryIO) -> Iterable[bytes]:
    """Whole CSV records, about ``_CSV_BLOCK`` bytes at a time."""
    rest = b""
    while True:
        block = source.read(_CSV_BLOCK)
        data = rest + block
        if not block:
            if data:
                yield data
            return
        cut = data.rfind(b"\n") + 1
        while cut and data.count(b'"', 0, cut) % 2:  # that newline is inside a quoted value
            cut = data.rfind(b"\n", 0, cut - 1) + 1
        piece, rest = data[:cut], data[cut:]
        if piece:
            yield piece
