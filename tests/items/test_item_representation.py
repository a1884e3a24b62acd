"""ItemSerializer's hand-written output must stay identical to DRF's generic field output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rest_framework import serializers

from items.models import Item
from items.serializers import ItemSerializer
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db


def generic(item: Item) -> dict:
    return serializers.ModelSerializer.to_representation(ItemSerializer(), item)


@pytest.mark.parametrize(
    "price", ["0", "0.10", "7", "25.5", "1200.00", "9999999999.99", "1E+2", "0.01"]
)
def test_the_fast_output_equals_drfs_for_every_price(price):
    item = ItemFactory(price=Decimal(price), description="d", is_active=False)
    for candidate in (item, Item.objects.get(pk=item.pk)):
        assert ItemSerializer(candidate).data == generic(candidate)


def test_the_fast_output_equals_drfs_for_timestamps_with_and_without_microseconds():
    item = ItemFactory()
    Item.objects.filter(pk=item.pk).update(
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
    )
    item.refresh_from_db()
    fast = ItemSerializer(item).data
    assert fast == generic(item)
    assert fast["created_at"] == "2026-01-02T03:04:05Z"
    assert fast["updated_at"] == "2026-01-02T03:04:05.000600Z"


def test_a_timestamp_in_another_zone_is_rendered_in_utc_like_drf():
    item = ItemFactory()
    item.created_at = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert ItemSerializer(item).data["created_at"] == "2026-06-01T10:00:00Z"
    assert ItemSerializer(item).data == generic(item)


def test_the_fast_output_has_exactly_the_declared_fields():
    item = ItemFactory()
    assert list(ItemSerializer(item).data) == ItemSerializer.Meta.fields


def test_a_list_row_equals_the_items_own_representation(api_client):
    item = ItemFactory(price=Decimal("12.50"), description="row")
    listed = api_client.get("/api/v1/items/").json()["results"]
    assert listed == [generic(Item.objects.get(pk=item.pk))]
    assert listed[0] == api_client.get(f"/api/v1/items/{item.pk}/").json()
