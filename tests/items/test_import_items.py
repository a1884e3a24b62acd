from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from items.models import Item
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db


def run_import(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_items", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing_import(path: Path, *args: str) -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_items", str(path), *args, stdout=StringIO(), stderr=err)
    return str(caught.value), err.getvalue()


def catalogue() -> dict[str, tuple]:
    return {
        sku: (name, price, stock)
        for sku, name, price, stock in Item.objects.values_list(
            "sku", "name", "price", "stock_quantity"
        )
    }


CSV = """sku,name,description,price,stock_quantity,is_active
LAP-1,Laptop,"14-inch, 16 GB",1200.00,12,true
MOU-1,Wireless Mouse,,25.50,140,true
HUB-1,USB-C Hub,Seven ports,49.99,,false
"""


def test_a_csv_file_imports_every_row(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(CSV)
    out, _ = run_import(path)
    assert "3 created, 0 updated" in out
    assert catalogue() == {
        "LAP-1": ("Laptop", Decimal("1200.00"), 12),
        "MOU-1": ("Wireless Mouse", Decimal("25.50"), 140),
        "HUB-1": ("USB-C Hub", Decimal("49.99"), 0),
    }
    assert Item.objects.get(sku="LAP-1").description == "14-inch, 16 GB"
    assert Item.objects.get(sku="HUB-1").is_active is False


def test_a_json_array_imports_every_row_and_generates_missing_skus(tmp_path):
    path = tmp_path / "items.json"
    path.write_text(
        json.dumps(
            [
                {"sku": "KB-1", "name": "Keyboard", "price": 75},
                {"name": "Monitor", "price": "299.99", "stock_quantity": 8},
            ],
            indent=2,
        )
    )
    out, _ = run_import(path)
    assert "2 created" in out
    monitor = Item.objects.get(name="Monitor")
    assert monitor.sku == f"ITEM-{monitor.pk:06d}"
    assert Item.objects.get(sku="KB-1").price == Decimal("75.00")


def test_a_json_lines_file_imports_every_row(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"sku": "A", "name": "Alpha", "price": "1.00"}\n'
        "\n"
        '{"sku": "B", "name": "Beta", "price": "2.00"}\n'
    )
    run_import(path)
    assert set(catalogue()) == {"A", "B"}


def test_an_existing_sku_updates_its_item_instead_of_adding_one(tmp_path):
    ItemFactory(sku="LAP-1", name="Old laptop", price=Decimal("999.00"), stock_quantity=1)
    path = tmp_path / "items.csv"
    path.write_text(CSV)
    out, _ = run_import(path)
    assert "2 created, 1 updated" in out
    assert Item.objects.count() == 3
    assert catalogue()["LAP-1"] == ("Laptop", Decimal("1200.00"), 12)


def test_a_bad_row_is_reported_with_its_line_number_and_nothing_is_written(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "sku,name,price\nA,Alpha,1.00\nB,Beta,not-a-price\nC,,3.00\nD,Delta,-4\nE,Echo,5.00\n"
    )
    message, err = failing_import(path)
    assert "3 errors" in message
    assert "nothing was imported" in message
    assert "line 3: price:" in err
    assert "line 4: name:" in err
    assert "line 5: price:" in err
    assert "line 2" not in err
    assert not Item.objects.exists()


def test_a_bad_entry_in_a_json_array_is_reported_with_the_line_it_starts_on(tmp_path):
    path = tmp_path / "items.json"
    path.write_text(
        '[\n  {"sku": "A", "name": "Alpha", "price": "1.00"},\n'
        '  {"sku": "B", "name": "Beta",\n   "price": "1.005"}\n]\n'
    )
    _, err = failing_import(path)
    assert "line 3: price:" in err
    assert not Item.objects.exists()


def test_a_bad_line_in_json_lines_is_reported_with_its_number(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"sku": "A", "name": "Alpha", "price": "1.00"}\n{"sku": "B", "name": 5, "price": "1"}\n'
    )
    _, err = failing_import(path)
    assert "line 2: name:" in err
    assert not Item.objects.exists()


def test_malformed_json_names_the_line_where_reading_stopped(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"sku": "A", "name": "Alpha", "price": "1.00"}\n{"sku": "B", \n')
    message, _ = failing_import(path)
    assert "line 2" in message
    assert not Item.objects.exists()


def test_a_duplicate_sku_within_the_file_is_an_error(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("sku,name,price\nA,Alpha,1\nB,Beta,2\nA,Again,3\n")
    _, err = failing_import(path)
    assert "line 4: sku: 'A' already appears on line 2" in err
    assert not Item.objects.exists()


def test_an_unknown_column_is_an_error(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("sku,name,price,colour\nA,Alpha,1,red\n")
    _, err = failing_import(path)
    assert "line 2: colour: Unknown or read-only field." in err
    assert not Item.objects.exists()


@pytest.mark.parametrize("name", ["items.csv", "items.json", "items.jsonl"])
def test_an_empty_file_is_reported_clearly(tmp_path, name):
    path = tmp_path / name
    path.write_text("")
    if name.endswith(".jsonl"):
        out, _ = run_import(path)
        assert "Imported 0 items" in out
    else:
        message, _ = failing_import(path)
        assert "line 1" in message
    assert not Item.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes("sku,name,price\nA,Café,1\n".encode("latin-1"))
    message, _ = failing_import(path)
    assert "not UTF-8" in message
    assert not Item.objects.exists()


def test_a_missing_file_and_an_unknown_extension_are_clear_errors(tmp_path):
    message, _ = failing_import(tmp_path / "absent.csv")
    assert "does not exist" in message
    odd = tmp_path / "items.txt"
    odd.write_text(CSV)
    message, _ = failing_import(odd)
    assert "--format" in message
    out, _ = run_import(odd, "--format", "csv")
    assert "3 created" in out


def test_a_dry_run_validates_and_writes_nothing(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(CSV)
    out, _ = run_import(path, "--dry-run")
    assert "3 rows valid" in out
    assert not Item.objects.exists()


def test_a_row_with_more_cells_than_the_header_is_an_error(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("sku,name,price\nA,Alpha,1,extra\n")
    message, _ = failing_import(path)
    assert "line 2" in message
    assert not Item.objects.exists()


def test_nul_characters_in_an_import_are_errors_not_crashes(tmp_path):
    csv_path = tmp_path / "items.csv"
    csv_path.write_text("sku,name,price\nA,Al\x00pha,1\n")
    _, err = failing_import(csv_path)
    assert "line 2: name:" in err
    json_path = tmp_path / "items.jsonl"
    json_path.write_text('{"sku": "A", "name": "Al\\u0000pha", "price": "1"}\n')
    _, err = failing_import(json_path)
    assert "line 1: name:" in err
    assert not Item.objects.exists()
