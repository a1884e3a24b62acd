from __future__ import annotations

from decimal import Decimal

import factory

from items.models import Item, StockMovement


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Item {n}")
    description = ""
    price = Decimal("10.00")
    stock_quantity = 5
    is_active = True


class StockMovementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockMovement

    item = factory.SubFactory(ItemFactory)
    delta = 1
    reason = "restock"
    resulting_quantity = 6
