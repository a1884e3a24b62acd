from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from items.services import item_adjust_stock
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/items/item/"


@pytest.fixture
def admin_browser(make_user) -> Client:
    client = Client()
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return client


def test_the_item_changelist_lists_items_for_staff(admin_browser):
    ItemFactory(sku="LAP-1", name="Laptop", price=Decimal("1200.00"))
    response = admin_browser.get(CHANGELIST)
    assert response.status_code == 200
    assert b"LAP-1" in response.content
    assert b"1200.00" in response.content


def test_the_changelist_searches_name_description_and_sku(admin_browser):
    ItemFactory(sku="LAP-1", name="Laptop")
    ItemFactory(sku="MOU-1", name="Mouse", description="wireless")
    response = admin_browser.get(CHANGELIST, {"q": "wireless"})
    assert response.status_code == 200
    assert b"MOU-1" in response.content
    assert b"LAP-1" not in response.content
    assert b"LAP-1" in admin_browser.get(CHANGELIST, {"q": "lap-1"}).content


def test_the_changelist_filters_by_activity(admin_browser):
    ItemFactory(sku="ON-1", is_active=True)
    ItemFactory(sku="OFF-1", is_active=False)
    response = admin_browser.get(CHANGELIST, {"is_active__exact": "0"})
    assert response.status_code == 200
    assert b"OFF-1" in response.content
    assert b"ON-1" not in response.content
    assert b"By created at" in response.content or b"created at" in response.content.lower()


def test_the_item_page_shows_its_stock_movements_inline(admin_browser, make_user):
    item = ItemFactory(stock_quantity=3)
    item_adjust_stock(item_id=item.pk, delta=4, reason="delivery from supplier", user=None)
    item_adjust_stock(item_id=item.pk, delta=-2, reason="sold at the counter", user=None)
    response = admin_browser.get(f"/admin/items/item/{item.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Stock movements" in content
    assert "delivery from supplier" in content
    assert "sold at the counter" in content
    # Movements are a record: read-only in the inline, never deleted from it.
    assert 'name="stock_movements-0-delta"' not in content
    assert "stock_movements-0-DELETE" not in content


def test_the_item_admin_is_closed_to_anonymous_visitors():
    response = Client().get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
