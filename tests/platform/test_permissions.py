"""One rule for writes (targets_site/permissions.py): staff, or the matching model permission."""

from __future__ import annotations

import pytest

from tests.items.factories import ItemFactory
from tests.sensors.factories import SensorFactory

pytestmark = pytest.mark.django_db

READING = {"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": 1.0}


@pytest.mark.parametrize(
    ("perms", "is_staff", "expected"),
    [([], False, 403), (["sensors.add_reading"], False, 201), ([], True, 201)],
)
def test_writing_readings_needs_staff_or_add_reading(
    make_user, client_for, perms, is_staff, expected
):
    SensorFactory(code="A")
    client = client_for(make_user("writer", perms=perms, is_staff=is_staff))
    assert client.post("/api/v1/readings/", READING, format="json").status_code == expected


@pytest.mark.parametrize(
    ("perms", "is_staff", "expected"),
    [([], False, 403), (["items.change_item"], False, 200), ([], True, 200)],
)
def test_adjusting_stock_needs_staff_or_change_item(
    make_user, client_for, perms, is_staff, expected
):
    item = ItemFactory(stock_quantity=5)
    client = client_for(make_user("clerk", perms=perms, is_staff=is_staff))
    response = client.post(f"/api/v1/items/{item.pk}/adjust-stock/", {"delta": -1}, format="json")
    assert response.status_code == expected


def test_anyone_reads_readings_and_sensors_but_only_staff_write_sensors(api_client, user_client):
    SensorFactory(code="A")
    assert api_client.get("/api/v1/readings/").status_code == 200
    assert api_client.get("/api/v1/sensors/").status_code == 200
    assert api_client.post("/api/v1/readings/", READING, format="json").status_code == 401
    body = {"code": "B", "name": "b"}
    assert user_client.post("/api/v1/sensors/", body, format="json").status_code == 403
