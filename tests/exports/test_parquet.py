"""Parquet exports: readable by pyarrow and pandas, written in row groups, COPY = Python."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exports import parquet, services
from items.models import Item
from tests.exports.factories import T0, make_items, make_readings

pytestmark = pytest.mark.django_db


def test_a_parquet_export_of_readings_reads_back_with_types_in_pyarrow_and_pandas(local_exports):
    import pandas as pd

    make_readings("A", 5)
    export = services.export_run(dataset="readings", fmt="parquet")
    assert export.status == "succeeded", export.error
    assert export.key.endswith(".parquet")
    path = local_exports / export.key
    table = pq.read_table(path)
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("value").type == pa.float64()
    assert table.column("sensor").to_pylist() == ["A"] * 5
    assert table.column("timestamp").to_pylist()[1] == T0 + dt.timedelta(minutes=1)
    frame = pd.read_parquet(path)
    assert list(frame.columns) == ["sensor", "timestamp", "value"]
    assert frame["value"].tolist() == [50.0, 51.0, 52.0, 53.0, 54.0]
    assert export.rows == 5


def test_items_keep_exact_decimals_and_tell_null_from_empty_text(local_exports):
    make_items(2)
    Item.objects.filter(sku="ITEM-000001").update(description="")
    export = services.export_run(dataset="items", fmt="parquet")
    table = pq.read_table(local_exports / export.key)
    assert table.schema.field("price").type == pa.decimal128(12, 2)
    assert table.column("price").to_pylist() == [Decimal("11.50"), Decimal("12.50")]
    assert table.column("description").to_pylist()[0] == ""
    assert table.column("is_active").to_pylist() == [True, True]


def test_rows_are_written_in_row_groups_so_memory_does_not_hold_the_table(
    local_exports, monkeypatch, python_writer
):
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 4)
    make_readings("A", 10)
    export = services.export_run(dataset="readings", fmt="parquet")
    metadata = pq.ParquetFile(local_exports / export.key).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [4, 4, 2]


def test_only_text_columns_get_dictionary_pages(local_exports):
    """Times and measurements rarely repeat: a dictionary for them costs memory and makes the
    file larger; sensor codes repeat on every row."""
    make_readings("A", 50)
    export = services.export_run(dataset="readings", fmt="parquet")
    group = pq.ParquetFile(local_exports / export.key).metadata.row_group(0)
    dictionary = {
        group.column(i).path_in_schema: group.column(i).has_dictionary_page
        for i in range(group.num_columns)
    }
    assert dictionary == {"sensor": True, "timestamp": False, "value": False}


def test_an_empty_parquet_export_has_the_schema_and_no_rows(local_exports):
    export = services.export_run(dataset="scores", fmt="parquet")
    table = pq.read_table(local_exports / export.key)
    assert table.num_rows == 0 and "submission_id" in table.schema.names


@pytest.mark.postgres
def test_on_postgresql_the_copy_path_gives_the_table_of_the_python_path(local_exports):
    from tests.games.factories import PlayerFactory, make_score

    make_items(3, name_prefix='=odd "name",\nwith lines')
    sensor = make_readings("A", 20, high_threshold=60.0)
    from sensors.models import Alert, Reading

    Reading.objects.create(sensor=sensor, timestamp=T0 + dt.timedelta(microseconds=7), value=-0.0)
    Alert.objects.create(sensor=sensor, kind="high", opened_at=T0, peak_value=70.5, reading_count=2)
    make_score(PlayerFactory(username="ann"), points=180, mode="bullseye")
    for dataset in ("items", "sensors", "readings", "alerts", "scores"):
        fast = services.export_run(dataset=dataset, fmt="parquet")
        slow = services.export_execute(
            export=services.export_start(dataset=dataset, fmt="parquet"), force_python=True
        )
        assert fast.status == slow.status == "succeeded", (fast.error, slow.error)
        fast_table = pq.read_table(local_exports / fast.key)
        slow_table = pq.read_table(local_exports / slow.key)
        assert fast_table.equals(slow_table), dataset
        assert fast.rows == slow.rows == fast_table.num_rows


def test_copy_csv_is_cut_only_between_records_even_inside_quoted_newlines(tmp_path, monkeypatch):
    """Pieces of a few bytes: every cut must fall between records, never in a quoted value."""
    monkeypatch.setattr(parquet, "_CSV_BLOCK", 7)
    names = ["plain", "two\nlines", '"quoted"\nand, comma', "", None, "x" * 30]
    lines = []
    for index, name in enumerate(names):
        cell = "" if name is None else '"' + name.replace('"', '""') + '"'
        lines.append(f"{index},{cell},{index * 1_000_000}\n")
    source = tmp_path / "copy.csv"
    source.write_text("".join(lines))
    schema = parquet.arrow_schema(
        [("id", pa.int64()), ("name", pa.string()), ("at", pa.timestamp("us", tz="UTC"))]
    )
    target = tmp_path / "out.parquet"
    assert parquet.parquet_from_csv(target, schema, source) == len(names)
    table = pq.read_table(target)
    assert table.column("name").to_pylist() == names
    assert table.column("at").to_pylist()[2] == dt.datetime(1970, 1, 1, 0, 0, 2, tzinfo=dt.UTC)
