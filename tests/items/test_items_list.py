from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from items.models import Item
from tests.helpers import assert_error
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["sku"] for row in response.json()["results"]]


@pytest.fixture
def catalogue():
    """Four items whose every sort key orders them differently."""
    now = timezone.now()
    rows = [
        # sku, name, description, price, stock, active, created minutes ago
        ("A-1", "Laptop", "A light laptop.", "1200.00", 12, True, 30),
        ("B-2", "Mouse", "Wireless, two buttons.", "25.50", 0, True, 10),
        ("C-3", "Hub", "USB-C hub with HDMI.", "49.99", 60, False, 20),
        ("D-4", "Cable", "Plain cable for a laptop dock.", "5.00", 3, True, 40),
    ]
    for sku, name, description, price, stock, active, ago in rows:
        item = ItemFactory(
            sku=sku,
            name=name,
            description=description,
            price=Decimal(price),
            stock_quantity=stock,
            is_active=active,
        )
        Item.objects.filter(pk=item.pk).update(created_at=now - timedelta(minutes=ago))


def test_the_list_is_ordered_by_id_by_default(api_client, catalogue):
    assert skus(api_client.get(URL)) == ["A-1", "B-2", "C-3", "D-4"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("min_price=25.50", ["A-1", "B-2", "C-3"]),
        ("max_price=49.99", ["B-2", "C-3", "D-4"]),
        ("min_price=10&max_price=100", ["B-2", "C-3"]),
        ("in_stock=true", ["A-1", "C-3", "D-4"]),
        ("in_stock=false", ["B-2"]),
        ("is_active=true", ["A-1", "B-2", "D-4"]),
        ("is_active=false", ["C-3"]),
        ("is_active=false&in_stock=true", ["C-3"]),
    ],
)
def test_the_list_filters_by_price_stock_and_activity(api_client, catalogue, query, expected):
    assert skus(api_client.get(f"{URL}?{query}")) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("mouse", ["B-2"]),  # name, case-insensitive
        ("laptop", ["A-1", "D-4"]),  # name and description
        ("hdmi", ["C-3"]),  # description only
        ("d-4", ["D-4"]),  # sku
        ("nothing-like-this", []),
    ],
)
def test_search_looks_in_name_description_and_sku(api_client, catalogue, term, expected):
    assert skus(api_client.get(URL, {"search": term})) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["D-4", "B-2", "C-3", "A-1"]),
        ("-price", ["A-1", "C-3", "B-2", "D-4"]),
        ("name", ["D-4", "C-3", "A-1", "B-2"]),
        ("-name", ["B-2", "A-1", "C-3", "D-4"]),
        ("created_at", ["D-4", "A-1", "C-3", "B-2"]),
        ("-created_at", ["B-2", "C-3", "A-1", "D-4"]),
        ("stock_quantity", ["B-2", "D-4", "A-1", "C-3"]),
        ("-stock_quantity", ["C-3", "A-1", "D-4", "B-2"]),
    ],
)
def test_the_list_orders_by_each_offered_key_both_ways(api_client, catalogue, ordering, expected):
    assert skus(api_client.get(URL, {"ordering": ordering})) == expected


def test_an_ordering_on_a_field_not_offered_is_ignored(api_client, catalogue):
    assert skus(api_client.get(URL, {"ordering": "description"})) == ["A-1", "B-2", "C-3", "D-4"]


@pytest.mark.parametrize("query", ["min_price=abc", "max_price=1e999", "in_stock=maybe"])
def test_a_malformed_filter_value_is_a_400(api_client, catalogue, query):
    error = assert_error(api_client.get(f"{URL}?{query}"), 400, "validation_error")
    assert list(error["details"]) == [query.split("=")[0]]


def test_the_page_size_defaults_to_50_with_links_to_the_next_page(api_client):
    ItemFactory.create_batch(51)
    body = api_client.get(URL).json()
    assert body["count"] == 51
    assert len(body["results"]) == 50
    assert body["previous"] is None
    assert body["next"].endswith("/api/v1/items/?page=2")

    second = api_client.get(body["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None


def test_a_huge_page_size_is_clamped_to_500(api_client):
    Item.objects.bulk_create(
        Item(sku=f"BULK-{n}", name=f"Bulk {n}", price=Decimal("1.00")) for n in range(501)
    )
    for size in ("501", "100000", "99999999999999999999999"):
        body = api_client.get(URL, {"page_size": size}).json()
        assert len(body["results"]) == 500, size
        assert body["count"] == 501


def test_a_small_page_size_is_honoured(api_client):
    ItemFactory.create_batch(3)
    body = api_client.get(URL, {"page_size": 2}).json()
    assert len(body["results"]) == 2
    assert "page_size=2" in body["next"]


@pytest.mark.parametrize("size", ["-1", "0", "abc", "1.5"])
def test_a_nonsense_page_size_is_a_400_naming_it(api_client, size):
    # Strict like every other query parameter (a typo must not silently change the page).
    ItemFactory.create_batch(3)
    error = assert_error(api_client.get(URL, {"page_size": size}), 400, "validation_error")
    assert list(error["details"]) == ["page_size"]


@pytest.mark.parametrize("page", ["99", "0", "abc", "-1"])
def test_a_page_out_of_range_is_a_json_404(api_client, page):
    ItemFactory.create_batch(2)
    assert_error(api_client.get(URL, {"page": page}), 404, "not_found")


def test_the_anonymous_list_costs_two_queries_whatever_the_page_size(
    api_client, django_assert_num_queries
):
    ItemFactory.create_batch(60)
    with django_assert_num_queries(2):  # COUNT and one SELECT
        assert len(api_client.get(URL, {"page_size": 60}).json()["results"]) == 60
    with django_assert_num_queries(2):
        api_client.get(URL, {"search": "item", "ordering": "-price", "in_stock": "true"})


def test_the_token_authenticated_list_adds_only_the_token_lookup(
    user_client, django_assert_num_queries
):
    ItemFactory.create_batch(60)
    with django_assert_num_queries(3):
        assert len(user_client.get(URL, {"page_size": 60}).json()["results"]) == 60


@pytest.mark.parametrize(("value", "expected"), [("1", ["A-1", "B-2", "D-4"]), ("0", ["C-3"])])
def test_boolean_filters_take_1_and_0_as_well(api_client, catalogue, value, expected):
    assert skus(api_client.get(URL, {"is_active": value})) == expected
