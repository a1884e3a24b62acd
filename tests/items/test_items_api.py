from __future__ import annotations

from decimal import Decimal

import pytest

from items.models import Item
from tests.helpers import assert_error
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"


def detail(item_id: int) -> str:
    return f"{URL}{item_id}/"


# --- The classic three ------------------------------------------------------------------------


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
    assert created["stock_quantity"] == 0
    assert created["is_active"] is True
    assert created["description"] == ""
    assert response["ETag"]

    fetched = staff_client.get(detail(created["id"]))
    assert fetched.json() == created
    assert fetched["ETag"] == response["ETag"]
    assert Item.objects.get(pk=created["id"]).price == Decimal("1200.00")


def test_a_missing_name_is_a_400_naming_the_field(staff_client):
    response = staff_client.post(URL, {"price": "1.00"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["name"]
    assert Item.objects.count() == 0


# --- Create, read, update, delete -------------------------------------------------------------


def test_an_item_created_with_every_field_keeps_them(staff_client):
    body = {
        "sku": "KB-01",
        "name": "Keyboard",
        "description": "Mechanical.",
        "price": "75.00",
        "stock_quantity": 35,
        "is_active": False,
    }
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert {key: created[key] for key in body} == body
    assert set(created) == {*body, "id", "created_at", "updated_at"}


def test_a_client_sku_that_already_exists_is_a_400_on_sku(staff_client):
    ItemFactory(sku="DUP-1")
    response = staff_client.post(URL, {"sku": "DUP-1", "name": "x", "price": "1"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["sku"]


def test_a_generated_sku_does_not_collide_with_a_client_chosen_one(staff_client):
    next_id = (Item.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    ItemFactory(sku=f"ITEM-{next_id + 1:06d}")
    response = staff_client.post(URL, {"name": "Generated", "price": "1"}, format="json")
    assert response.status_code == 201, response.content
    assert len(set(Item.objects.values_list("sku", flat=True))) == 2


@pytest.mark.parametrize(
    ("sent", "stored"),
    [(25.5, "25.50"), (0, "0.00"), ("49.99", "49.99"), (299.99, "299.99"), ("7", "7.00")],
)
def test_prices_are_accepted_as_numbers_or_strings_and_returned_as_exact_strings(
    staff_client, sent, stored
):
    response = staff_client.post(URL, {"name": "p", "price": sent}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["price"] == stored
    assert Item.objects.get().price == Decimal(stored)


def test_a_list_returns_prices_as_strings(api_client):
    ItemFactory(price=Decimal("0.10"))
    assert api_client.get(URL).json()["results"][0]["price"] == "0.10"


def test_put_replaces_the_writable_fields(staff_client):
    item = ItemFactory(name="Old", price=Decimal("1.00"), stock_quantity=3)
    body = {"sku": item.sku, "name": "New", "price": "2.50", "stock_quantity": 7}
    response = staff_client.put(detail(item.pk), body, format="json")
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert (item.name, item.price, item.stock_quantity) == ("New", Decimal("2.50"), 7)


def test_patch_changes_only_the_fields_sent(staff_client):
    item = ItemFactory(name="Keep", price=Decimal("1.00"))
    response = staff_client.patch(detail(item.pk), {"price": "3.00"}, format="json")
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert (item.name, item.price) == ("Keep", Decimal("3.00"))


def test_delete_removes_the_item(staff_client):
    item = ItemFactory()
    response = staff_client.delete(detail(item.pk))
    assert response.status_code == 204
    assert not Item.objects.filter(pk=item.pk).exists()
    assert_error(staff_client.get(detail(item.pk)), 404, "not_found")


def test_an_unknown_item_is_a_json_404(api_client, staff_client):
    assert_error(api_client.get(detail(999999)), 404, "not_found")
    assert_error(staff_client.patch(detail(999999), {"name": "x"}, format="json"), 404)
    assert_error(staff_client.delete(detail(999999)), 404)
    assert_error(api_client.get(f"{URL}not-a-number/"), 404)


# --- ETag and If-Match ------------------------------------------------------------------------


def test_get_post_and_patch_responses_carry_the_current_etag(staff_client):
    created = staff_client.post(URL, {"name": "e", "price": "1"}, format="json")
    item = Item.objects.get()
    assert created["ETag"] == item.etag
    patched = staff_client.patch(detail(item.pk), {"name": "f"}, format="json")
    item.refresh_from_db()
    assert patched["ETag"] == item.etag
    assert patched["ETag"] != created["ETag"]
    assert staff_client.get(detail(item.pk))["ETag"] == item.etag


def test_a_stale_if_match_is_412_and_changes_nothing(staff_client):
    item = ItemFactory(name="Original")
    stale = staff_client.get(detail(item.pk))["ETag"]
    assert staff_client.patch(detail(item.pk), {"name": "Second"}, format="json").status_code == 200

    response = staff_client.patch(
        detail(item.pk), {"name": "Lost update"}, format="json", HTTP_IF_MATCH=stale
    )
    assert_error(response, 412, "precondition_failed")
    item.refresh_from_db()
    assert item.name == "Second"

    response = staff_client.put(
        detail(item.pk),
        {"name": "Lost", "price": "1"},
        format="json",
        HTTP_IF_MATCH=stale,
    )
    assert_error(response, 412, "precondition_failed")
    assert_error(staff_client.delete(detail(item.pk), HTTP_IF_MATCH=stale), 412)
    item.refresh_from_db()
    assert item.name == "Second"


def test_the_current_if_match_updates(staff_client):
    item = ItemFactory(name="Original")
    current = staff_client.get(detail(item.pk))["ETag"]
    response = staff_client.patch(
        detail(item.pk), {"name": "Changed"}, format="json", HTTP_IF_MATCH=current
    )
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert item.name == "Changed"


@pytest.mark.parametrize("if_match", ["*", "{etag}", '"nope", {etag}', '"nope",{etag} , "x"'])
def test_if_match_accepts_a_star_the_etag_and_lists_holding_it(staff_client, if_match):
    item = ItemFactory(name="Original")
    header = if_match.format(etag=item.etag)
    response = staff_client.patch(
        detail(item.pk), {"name": "Changed"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("if_match", ["W/{etag}", '"nope", W/{etag}', "{bare}", ""])
def test_if_match_compares_strongly_so_a_weak_or_malformed_tag_is_412(staff_client, if_match):
    # RFC 9110 13.1.1: If-Match uses the strong comparison; W/"x" never matches "x".
    item = ItemFactory(name="Original")
    header = if_match.format(etag=item.etag, bare=item.etag.strip('"'))
    for response in (
        staff_client.patch(detail(item.pk), {"name": "x"}, format="json", HTTP_IF_MATCH=header),
        staff_client.delete(detail(item.pk), HTTP_IF_MATCH=header),
    ):
        assert_error(response, 412, "precondition_failed")
    item.refresh_from_db()
    assert item.name == "Original"


def test_a_current_if_match_allows_delete(staff_client):
    item = ItemFactory()
    response = staff_client.delete(detail(item.pk), HTTP_IF_MATCH=item.etag)
    assert response.status_code == 204
