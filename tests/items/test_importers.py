"""The row readers of ``items/importers.py`` (no database)."""

from __future__ import annotations

import collections
import gc
import io
import json
import time

from items.importers import read_rows


def json_catalogue(rows: int) -> str:
    """A JSON array of ``rows`` items, one key per line (``json.dumps(indent=2)``)."""
    return json.dumps(
        [{"sku": f"SKU-{n}", "name": f"Item {n}", "price": "1.00"} for n in range(rows)], indent=2
    )


def test_each_json_row_knows_the_line_it_starts_on():
    text = json_catalogue(3)
    # "[" on line 1, then five lines per object: "{", three keys, "},".
    assert [line for line, _ in read_rows(io.StringIO(text), "json")] == [2, 7, 12]
    assert text.splitlines()[11].strip() == "{"


def cpu_seconds_to_read(text: str) -> float:
    """Best of 3 of this process's CPU time to read every row, the collector paused.

    CPU time rather than wall time, and the best of three, so other work on the machine barely
    shows; the collector is paused because its passes grow with the objects alive in the test
    process, not with the reader's own work.
    """
    timings = []
    for _ in range(3):
        gc.collect()
        gc.disable()
        try:
            started = time.process_time()
            collections.deque(read_rows(io.StringIO(text), "json"), maxlen=0)
            timings.append(time.process_time() - started)
        finally:
            gc.enable()
    return min(timings)


def test_reading_a_json_array_takes_time_linear_in_its_rows():
    # Four times the rows: about four times the time when linear, about sixteen when each row's
    # line number is counted from the start of the file (20k rows took 5 s, 80k rows 119 s).
    small, large = json_catalogue(20_000), json_catalogue(80_000)
    rows = list(read_rows(io.StringIO(large), "json"))
    assert len(rows) == 80_000
    assert rows[-1] == (2 + 5 * 79_999, {"sku": "SKU-79999", "name": "Item 79999", "price": "1.00"})
    small_s, large_s = cpu_seconds_to_read(small), cpu_seconds_to_read(large)
    assert large_s < 5 * small_s, f"20k rows: {small_s:.3f} s, 80k rows: {large_s:.3f} s"


def test_csv_cells_the_export_escaped_against_formulas_are_read_as_they_were():
    text = "sku,name,description\nA-1,'=1+1,''quoted\nA-2,'abc,'\n"
    assert [row for _, row in read_rows(io.StringIO(text), "csv")] == [
        {"sku": "A-1", "name": "=1+1", "description": "'quoted"},
        {"sku": "A-2", "name": "'abc", "description": "'"},
    ]


def test_json_text_is_never_unescaped():
    text = json.dumps([{"sku": "A-1", "name": "'=1+1"}])
    assert [row for _, row in read_rows(io.StringIO(text), "json")] == [
        {"sku": "A-1", "name": "'=1+1"}
    ]
