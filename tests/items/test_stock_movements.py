"""Every path that changes an item's stock leaves a movement naming its source."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from items.models import Item, StockMovement
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db


def movements(item: Item) -> list[tuple[int, int, str]]:
    return list(
        StockMovement.objects.filter(item=item)
        .order_by("id")
        .values_list("delta", "resulting_quantity", "source")
    )


def test_creating_an_item_with_stock_records_the_initial_stock(staff_client):
    body = {"name": "Trackball", "price": "89.90", "stock_quantity": 5}
    response = staff_client.post("/api/v1/items/", body, format="json")
    assert response.status_code == 201
    assert movements(Item.objects.get(pk=response.json()["id"])) == [(5, 5, "create")]


def test_an_item_created_without_stock_has_no_movement(staff_client):
    response = staff_client.post("/api/v1/items/", {"name": "Pad", "price": "1"}, format="json")
    assert movements(Item.objects.get(pk=response.json()["id"])) == []


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_api_edit_of_the_stock_is_a_movement_by_its_user(staff_client, staff_user, method):
    item = ItemFactory(stock_quantity=10)
    body = {"stock_quantity": 7}
    if method == "put":
        body |= {"name": item.name, "price": str(item.price), "sku": item.sku}
    response = getattr(staff_client, method)(f"/api/v1/items/{item.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert movements(item) == [(-3, 7, "api")]
    assert StockMovement.objects.get(item=item).created_by == staff_user


def test_an_api_edit_that_leaves_the_stock_alone_records_nothing(staff_client):
    item = ItemFactory(stock_quantity=10)
    response = staff_client.patch(f"/api/v1/items/{item.pk}/", {"name": "New"}, format="json")
    assert response.status_code == 200
    assert movements(item) == []


def test_adjust_stock_is_recorded_as_an_adjustment(staff_client):
    item = ItemFactory(stock_quantity=10)
    response = staff_client.post(
        f"/api/v1/items/{item.pk}/adjust-stock/", {"delta": 2, "reason": "found"}, format="json"
    )
    assert response.status_code == 200
    assert movements(item) == [(2, 12, "adjust")]


def test_the_admin_form_records_a_stock_change(make_user):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(boss)
    item = ItemFactory(stock_quantity=4, price=Decimal("3.00"))
    response = browser.post(
        f"/admin/items/item/{item.pk}/change/",
        {
            "sku": item.sku,
            "name": item.name,
            "description": "",
            "price": "3.00",
            "stock_quantity": "9",
            "is_active": "on",
            "stock_movements-TOTAL_FORMS": "0",
            "stock_movements-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert movements(item) == [(5, 9, "admin")]
    assert StockMovement.objects.get(item=item).created_by == boss


def test_import_items_records_new_and_changed_stock(tmp_path):
    kept = ItemFactory(sku="KEEP-1", stock_quantity=3)
    moved = ItemFactory(sku="MOVE-1", stock_quantity=3)
    source = tmp_path / "items.csv"
    source.write_text(
        "sku,name,price,stock_quantity\n"
        f"KEEP-1,{kept.name},1.00,3\n"
        f"MOVE-1,{moved.name},1.00,8\n"
        "NEW-1,New thing,1.00,4\n"
    )
    call_command("import_items", str(source), stdout=StringIO(), stderr=StringIO())
    assert movements(kept) == []
    assert movements(moved) == [(5, 8, "import")]
    assert movements(Item.objects.get(sku="NEW-1")) == [(4, 4, "import")]
