"""The format writers alone: bytes out, row/byte/sha256 accounting, CSV formula escaping (and
its inverse, which the importers apply)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exports.formats import (
    csv_cell,
    csv_header,
    datetime_csv_text,
    datetime_json_text,
    datetime_text,
    file_copy_digest,
    file_digest,
    float_text,
    rows_write,
)
from targets_site.csv_text import csv_escape_formula, csv_unescape_formula

COLUMNS = ("id", "name", "price", "seen_at", "active", "value")
ROWS = [
    (1, "Laptop", Decimal("1200.00"), dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), True, 1.5),
    (2, '=HYPERLINK("http://x")', Decimal("0.00"), None, False, -65.0),
    (3, 'multi\nline, "quoted"', Decimal("9.99"), None, None, None),
]


def write(fmt: str, rows=ROWS, *, compress: bool = False):
    target = io.BytesIO()
    written = rows_write(target=target, fmt=fmt, columns=COLUMNS, rows=rows, compress=compress)
    return written, target.getvalue()


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_a_spreadsheet_would_run_is_prefixed_with_a_quote(text):
    assert csv_escape_formula(text) == "'" + text
    assert csv_unescape_formula("'" + text) == text


@pytest.mark.parametrize("text", ["'", "'abc", "''", "'=1"])
def test_text_that_starts_with_a_quote_gets_one_more_so_it_reads_back_as_it_was(text):
    assert csv_escape_formula(text) == "'" + text
    assert csv_unescape_formula("'" + text) == text


@pytest.mark.parametrize("text", ["", "plain", "a=b", "1-2", " =x"])
def test_ordinary_text_is_left_alone(text):
    assert csv_escape_formula(text) == text
    assert csv_unescape_formula(text) == text


@pytest.mark.parametrize("text", ["'", "'abc", "' =x", "a'=b"])
def test_a_quote_the_export_would_not_have_added_is_kept_on_import(text):
    assert csv_unescape_formula(text) == text


@given(st.text())
def test_unescaping_gives_back_exactly_the_text_that_was_escaped(text):
    assert csv_unescape_formula(csv_escape_formula(text)) == text


def test_negative_numbers_are_numbers_not_formulas():
    assert csv_cell(-5) == -5
    assert csv_cell(-65.0) == "-65"
    assert csv_cell(Decimal("-1.50")) == Decimal("-1.50")


def test_csv_has_a_header_and_one_line_per_row_with_the_formula_cell_escaped():
    written, data = write("csv")
    parsed = list(csv.reader(io.StringIO(data.decode())))
    assert parsed[0] == list(COLUMNS)
    assert parsed[1] == ["1", "Laptop", "1200.00", "2026-01-02 03:04:05+00", "true", "1.5"]
    assert parsed[2] == ["2", '\'=HYPERLINK("http://x")', "0.00", "", "false", "-65"]
    assert parsed[3] == ["3", 'multi\nline, "quoted"', "9.99", "", "", ""]
    assert written.rows == 3


def test_the_record_counts_and_hashes_exactly_the_bytes_written():
    for fmt in ("csv", "json", "jsonl"):
        written, data = write(fmt)
        assert written.bytes == len(data)
        assert written.sha256 == hashlib.sha256(data).hexdigest()


def test_json_is_one_array_of_objects_with_decimals_as_strings():
    written, data = write("json")
    parsed = json.loads(data)
    assert written.rows == 3
    assert parsed[0] == {
        "id": 1,
        "name": "Laptop",
        "price": "1200.00",
        "seen_at": "2026-01-02T03:04:05Z",
        "active": True,
        "value": 1.5,
    }
    # JSON is not a spreadsheet: text stays as stored.
    assert parsed[1]["name"] == '=HYPERLINK("http://x")'
    assert parsed[2]["active"] is None


def test_an_empty_export_is_still_valid_in_every_format():
    assert json.loads(write("json", [])[1]) == []
    assert write("jsonl", [])[1] == b""
    assert write("csv", [])[1] == b"id,name,price,seen_at,active,value\n"
    assert write("csv", [])[0].rows == 0


def test_jsonl_is_one_object_per_line():
    written, data = write("jsonl")
    lines = data.decode().splitlines()
    assert len(lines) == written.rows == 3
    assert [json.loads(line)["id"] for line in lines] == [1, 2, 3]


def test_gzip_output_decompresses_to_the_plain_output_and_is_hashed_compressed():
    plain_written, plain = write("csv")
    zipped_written, zipped = write("csv", compress=True)
    assert gzip.decompress(zipped) == plain
    assert zipped_written.rows == plain_written.rows
    assert zipped_written.sha256 == hashlib.sha256(zipped).hexdigest()
    assert zipped_written.bytes == len(zipped)


def test_the_same_rows_give_the_same_gzip_bytes():
    assert write("jsonl", compress=True)[1] == write("jsonl", compress=True)[1]


def test_rows_are_consumed_lazily_from_a_generator():
    consumed = []

    def rows():
        for number in range(5000):
            consumed.append(number)
            yield (number, f"n{number}", Decimal(1), None, True, 0.5)

    written, data = write("json", rows())
    assert written.rows == 5000 == len(json.loads(data)) == len(consumed)


def test_nan_cannot_be_written_as_json():
    with pytest.raises(ValueError):
        write("jsonl", [(1, "x", Decimal(1), None, True, float("nan"))])


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="Unknown format 'xml'"):
        write("xml")


def test_csv_times_are_written_as_postgresql_writes_a_utc_timestamptz():
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert datetime_csv_text(dt.datetime(2026, 5, 1, 12, 0, tzinfo=plus_two)) == (
        "2026-05-01 10:00:00+00"
    )
    assert datetime_csv_text(dt.datetime(2026, 5, 1, 12, 0, 0, 120, tzinfo=dt.UTC)) == (
        "2026-05-01 12:00:00.00012+00"
    )
    assert dt.datetime.fromisoformat("2026-05-01 12:00:00.00012+00").microsecond == 120


def test_json_times_are_iso_8601_in_utc_with_z():
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert datetime_text(dt.datetime(2026, 5, 1, 12, 0, tzinfo=plus_two)) == "2026-05-01T10:00:00Z"
    assert (
        datetime_text(dt.datetime(2026, 5, 1, 12, 0, 0, 120, tzinfo=dt.UTC))
        == "2026-05-01T12:00:00.000120Z"
    )


def test_a_finished_file_is_hashed_and_gzipped_in_one_pass(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_bytes(csv_header(["a", "=b"]) + b"1,x\n2,y\n")
    assert plain.read_bytes() == b"a,'=b\n1,x\n2,y\n"
    assert file_digest(plain) == (14, hashlib.sha256(plain.read_bytes()).hexdigest())
    target = io.BytesIO()
    with plain.open("rb") as source:
        size, sha = file_copy_digest(source=source, target=target, compress=True)
    assert gzip.decompress(target.getvalue()) == plain.read_bytes()
    assert (size, sha) == (len(target.getvalue()), hashlib.sha256(target.getvalue()).hexdigest())


@given(st.lists(st.text(), max_size=20))
def test_any_text_written_to_csv_reads_back_unchanged_once_unescaped(texts):
    rows = [(text,) for text in texts]
    target = io.BytesIO()
    rows_write(target=target, fmt="csv", columns=["text"], rows=rows)
    parsed = list(csv.reader(io.StringIO(target.getvalue().decode(), newline="")))[1:]
    assert [row[0] if row else "" for row in parsed] == [csv_escape_formula(t) for t in texts]
    assert [csv_unescape_formula(row[0]) if row else "" for row in parsed] == texts


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_reads_back_as_the_same_float(value):
    assert float(float_text(value)) == value


def test_json_times_trim_the_fraction_as_postgresql_to_json_does():
    assert datetime_json_text(dt.datetime(2026, 5, 1, 12, 0, 0, 120, tzinfo=dt.UTC)) == (
        "2026-05-01T12:00:00.00012Z"
    )
    assert datetime_json_text(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)) == (
        "2026-05-01T12:00:00Z"
    )


@pytest.mark.parametrize(
    "pieces", [[b"[\n"], [b"[", b"\n"], [b"[\n", b"{}", b",\n"], [b"x" * 3_000_000 + b",\n"]]
)
def test_a_hashed_file_holding_its_tail_writes_and_hashes_every_byte_but_the_replaced_end(
    tmp_path, pieces
):
    from exports.formats import hashed_file

    path = tmp_path / "out"
    whole = b"".join(pieces)
    with hashed_file(path, hold_tail=2) as (stream, digest):
        for piece in pieces:
            stream.write(piece)
        stream.flush()
        stream.raw.end(whole[-2:], b"<end>")
    expected = whole[:-2] + b"<end>"
    assert path.read_bytes() == expected
    assert digest.bytes_written == len(expected)
    assert digest.sha256 == hashlib.sha256(expected).hexdigest()


def test_a_held_tail_that_is_not_the_expected_ending_is_an_error(tmp_path):
    from exports.formats import hashed_file

    with hashed_file(tmp_path / "out", hold_tail=2) as (stream, _digest):
        stream.write(b"[\n{}\n")
        stream.flush()
        with pytest.raises(ValueError, match="not"):
            stream.raw.end(b",\n", b"\n]\n")
