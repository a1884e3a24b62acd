from __future__ import annotations

import pytest

from items.models import Item, StockMovement
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"


def test_an_empty_catalogue_lists_no_items(api_client):
    response = api_client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_created_item_reads_back_with_exact_price_and_generated_sku(staff_client):
    response = staff_client.post(URL, {"name": " Laptop ", "price": 1200}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Laptop"
    assert created["price"] == "1200.00"
    assert created["sku"] == f"ITEM-{created['id']:06d}"
    assert response["ETag"]

    fetched = staff_client.get(f"{URL}{created['id']}/").json()
    assert fetched == created


def test_a_missing_name_is_a_400_naming_the_field(staff_client):
    response = staff_client.post(URL, {"price": "1.00"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert "name" in error["details"]
    assert Item.objects.count() == 0


def test_adjusting_stock_below_zero_is_a_conflict_and_changes_nothing(staff_client):
    item = Item.objects.create(sku="X1", name="X", price="1.00", stock_quantity=2)
    response = staff_client.post(f"{URL}{item.pk}/adjust-stock/", {"delta": -3}, format="json")
    assert_error(response, 409, "conflict")
    item.refresh_from_db()
    assert item.stock_quantity == 2
    assert not StockMovement.objects.exists()
