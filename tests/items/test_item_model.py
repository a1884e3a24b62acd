"""The database itself refuses what the API refuses: check constraints back the >= 0 rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from items.models import Item, StockMovement
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [
        {"price": Decimal("-0.01")},
        {"stock_quantity": -1},
        {"name": ""},
    ],
)
def test_the_database_refuses_a_negative_price_or_stock_and_an_empty_name(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(**{"sku": "BAD-1", "name": "x", "price": Decimal("1"), **fields})
    assert not Item.objects.exists()


def test_the_database_refuses_an_update_that_takes_stock_below_zero():
    item = ItemFactory(stock_quantity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(stock_quantity=F("stock_quantity") - 2)
    item.refresh_from_db()
    assert item.stock_quantity == 1


def test_the_database_refuses_a_duplicate_sku():
    ItemFactory(sku="SAME")
    with pytest.raises(IntegrityError), transaction.atomic():
        ItemFactory(sku="SAME")


@pytest.mark.parametrize(("delta", "result"), [(0, 1), (1, -1)])
def test_the_database_refuses_a_zero_or_negative_result_movement(delta, result):
    item = ItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(item=item, delta=delta, resulting_quantity=result)


def test_an_etag_changes_whenever_the_item_is_saved():
    item = ItemFactory()
    before = item.etag
    item.name = "renamed"
    item.save()
    assert item.etag != before
    assert item.etag.startswith(f'"{item.pk}-') and item.etag.endswith('"')
