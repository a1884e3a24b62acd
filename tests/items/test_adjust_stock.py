from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from items.models import Item, StockMovement
from items.services import STOCK_MAX
from tests.helpers import assert_error
from tests.items.factories import ItemFactory


def adjust_url(item: Item) -> str:
    return f"/api/v1/items/{item.pk}/adjust-stock/"


@pytest.mark.django_db
def test_a_positive_then_a_negative_delta_moves_stock_and_keeps_each_movement(
    staff_client, staff_user
):
    item = ItemFactory(stock_quantity=5)
    response = staff_client.post(
        adjust_url(item), {"delta": 7, "reason": "delivery"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["item"]["stock_quantity"] == 12
    assert body["movement"]["delta"] == 7
    assert body["movement"]["resulting_quantity"] == 12
    assert body["movement"]["reason"] == "delivery"

    response = staff_client.post(adjust_url(item), {"delta": -12}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["item"]["stock_quantity"] == 0

    item.refresh_from_db()
    assert item.stock_quantity == 0
    movements = list(
        item.stock_movements.order_by("id").values_list(
            "delta", "resulting_quantity", "reason", "created_by"
        )
    )
    assert movements == [(7, 12, "delivery", staff_user.pk), (-12, 0, "", staff_user.pk)]


@pytest.mark.django_db
def test_an_adjustment_answers_the_items_new_etag(staff_client):
    item = ItemFactory(stock_quantity=1)
    before = item.etag
    response = staff_client.post(adjust_url(item), {"delta": 1}, format="json")
    item.refresh_from_db()
    assert response["ETag"] == item.etag != before


@pytest.mark.django_db
def test_going_below_zero_is_a_409_and_changes_nothing(staff_client):
    item = ItemFactory(stock_quantity=2)
    error = assert_error(staff_client.post(adjust_url(item), {"delta": -3}), 409, "conflict")
    assert "2 in stock" in error["message"]
    item.refresh_from_db()
    assert item.stock_quantity == 2
    assert not StockMovement.objects.exists()


@pytest.mark.django_db
def test_going_past_the_integer_limit_is_a_409_and_changes_nothing(staff_client):
    item = ItemFactory(stock_quantity=STOCK_MAX - 1)
    assert_error(staff_client.post(adjust_url(item), {"delta": 2}), 409, "conflict")
    item.refresh_from_db()
    assert item.stock_quantity == STOCK_MAX - 1


@pytest.mark.django_db
def test_a_zero_delta_is_a_400(staff_client):
    item = ItemFactory(stock_quantity=2)
    error = assert_error(staff_client.post(adjust_url(item), {"delta": 0}), 400)
    assert list(error["details"]) == ["delta"]
    assert not StockMovement.objects.exists()


@pytest.mark.django_db
def test_adjusting_an_unknown_item_is_a_404(staff_client):
    response = staff_client.post("/api/v1/items/999999/adjust-stock/", {"delta": 1})
    assert_error(response, 404, "not_found")


@pytest.mark.django_db
def test_adjust_stock_answers_only_post(staff_client):
    item = ItemFactory()
    assert_error(staff_client.get(adjust_url(item)), 405, "method_not_allowed")


THREADS = 20
ADJUSTMENTS_PER_THREAD = 10
# Each thread takes three, gives back one, ...: demand outruns supply so many moves must fail.
DELTAS = [-3, 1, -3, -3, 1, -3, -3, 1, -3, -3]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adjustments_keep_stock_exact_and_never_negative(make_user):
    item = ItemFactory(stock_quantity=100)
    token = Token.objects.create(user=make_user("stocker", is_staff=True)).key
    start = threading.Barrier(THREADS)

    def worker() -> list[tuple[int, int]]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        results = []
        try:
            start.wait()
            for delta in DELTAS:
                response = client.post(adjust_url(item), {"delta": delta}, format="json")
                assert response.status_code in (200, 409), response.content
                results.append((delta, response.status_code))
        finally:
            connection.close()
        return results

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = [
            result
            for future in [pool.submit(worker) for _ in range(THREADS)]
            for result in future.result()
        ]

    assert len(outcomes) == THREADS * ADJUSTMENTS_PER_THREAD
    succeeded = [delta for delta, status in outcomes if status == 200]
    assert any(status == 409 for _, status in outcomes)
    item.refresh_from_db()
    assert item.stock_quantity == 100 + sum(succeeded)
    assert item.stock_quantity >= 0

    movements = list(item.stock_movements.order_by("id").values_list("delta", "resulting_quantity"))
    assert len(movements) == len(succeeded)
    assert sorted(delta for delta, _ in movements) == sorted(succeeded)
    # Movements are written under the row lock, so in id order they form one unbroken chain.
    quantity = 100
    for delta, resulting in movements:
        quantity += delta
        assert resulting == quantity >= 0
    assert quantity == item.stock_quantity
