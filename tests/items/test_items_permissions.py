from __future__ import annotations

import pytest

from items.models import Item
from tests.helpers import assert_error
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"
NEW = {"name": "New", "price": "1.00"}


def detail(item: Item) -> str:
    return f"{URL}{item.pk}/"


def test_anyone_reads_the_list_and_an_item(api_client):
    item = ItemFactory()
    assert api_client.get(URL).status_code == 200
    assert api_client.get(detail(item)).status_code == 200


def test_an_anonymous_write_is_a_401_and_changes_nothing(api_client):
    item = ItemFactory(name="Same")
    assert_error(api_client.post(URL, NEW, format="json"), 401, "not_authenticated")
    assert_error(api_client.patch(detail(item), {"name": "x"}, format="json"), 401)
    assert_error(api_client.delete(detail(item)), 401)
    assert_error(api_client.post(f"{detail(item)}adjust-stock/", {"delta": 1}), 401)
    item.refresh_from_db()
    assert item.name == "Same"
    assert Item.objects.count() == 1


def test_a_bad_token_is_a_401_even_for_reads(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(api_client.get(URL), 401, "authentication_failed")


def test_a_plain_user_is_forbidden_to_write(user_client):
    item = ItemFactory(name="Same", stock_quantity=1)
    assert_error(user_client.post(URL, NEW, format="json"), 403, "permission_denied")
    assert_error(user_client.put(detail(item), NEW, format="json"), 403)
    assert_error(user_client.patch(detail(item), {"name": "x"}, format="json"), 403)
    assert_error(user_client.delete(detail(item)), 403)
    assert_error(user_client.post(f"{detail(item)}adjust-stock/", {"delta": 1}), 403)
    item.refresh_from_db()
    assert (item.name, item.stock_quantity) == ("Same", 1)


def test_a_user_with_add_item_can_create_but_not_change_or_delete(make_user, client_for):
    client = client_for(make_user("adder", perms=["items.add_item"]))
    assert client.post(URL, NEW, format="json").status_code == 201
    item = Item.objects.get()
    assert_error(client.patch(detail(item), {"name": "x"}, format="json"), 403)
    assert_error(client.delete(detail(item)), 403)


def test_a_user_with_change_item_can_edit_and_adjust_stock_but_not_create(make_user, client_for):
    client = client_for(make_user("changer", perms=["items.change_item"]))
    item = ItemFactory(stock_quantity=1)
    assert client.patch(detail(item), {"name": "Renamed"}, format="json").status_code == 200
    assert client.put(detail(item), NEW, format="json").status_code == 200
    assert client.post(f"{detail(item)}adjust-stock/", {"delta": 2}).status_code == 200
    assert_error(client.post(URL, NEW, format="json"), 403)
    assert_error(client.delete(detail(item)), 403)


def test_a_user_with_delete_item_can_delete_but_not_edit(make_user, client_for):
    client = client_for(make_user("deleter", perms=["items.delete_item"]))
    item = ItemFactory()
    assert_error(client.patch(detail(item), {"name": "x"}, format="json"), 403)
    assert client.delete(detail(item)).status_code == 204


def test_staff_can_do_everything(staff_client):
    created = staff_client.post(URL, NEW, format="json")
    assert created.status_code == 201
    item = Item.objects.get()
    assert staff_client.patch(detail(item), {"name": "x"}, format="json").status_code == 200
    assert staff_client.put(detail(item), NEW, format="json").status_code == 200
    assert staff_client.post(f"{detail(item)}adjust-stock/", {"delta": 1}).status_code == 200
    assert staff_client.delete(detail(item)).status_code == 204
