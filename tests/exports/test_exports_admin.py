from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from exports import services
from exports.admin import export_selected
from items.models import Item
from tests.exports.factories import make_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("boss", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_the_export_list_shows_status_size_and_a_download_link_and_the_page_its_hash(admin_client):
    make_items(2)
    done = services.export_run(dataset="items", fmt="csv")
    pending = services.export_request(dataset="readings", fmt="json")
    page = admin_client.get("/admin/exports/export/").content.decode()
    assert f"/api/v1/exports/{done.pk}/download/" in page
    assert f"/api/v1/exports/{pending.pk}/download/" not in page
    assert "succeeded" in page and "pending" in page
    assert "bytes" in page  # filesizeformat of a small file
    # The list fits a laptop's window: the checksum is on the export's own page.
    detail = admin_client.get(f"/admin/exports/export/{done.pk}/change/").content.decode()
    assert done.sha256 in detail


def test_staff_can_download_from_the_admin_link_with_their_session(admin_client):
    make_items(1)
    done = services.export_run(dataset="items", fmt="csv")
    response = admin_client.get(f"/api/v1/exports/{done.pk}/download/")
    assert response.status_code == 200
    assert b"ITEM-000001" in b"".join(response.streaming_content)


def test_exports_cannot_be_added_or_edited_in_the_admin(admin_client):
    assert admin_client.get("/admin/exports/export/add/").status_code == 403


def test_export_selected_downloads_only_the_chosen_rows_as_escaped_csv(make_user):
    items = make_items(3, name_prefix="@risky")
    request = RequestFactory().post("/admin/items/item/")
    request.user = make_user("boss2", is_staff=True, is_superuser=True)
    chosen = Item.objects.filter(pk__in=[items[0].pk, items[2].pk])
    response = export_selected(site._registry[Item], request, chosen)
    assert response["Content-Disposition"].startswith('attachment; filename="items-selected-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["sku"] for row in rows] == ["ITEM-000001", "ITEM-000003"]
    assert rows[0]["name"] == "'@risky 1"


@pytest.mark.parametrize(
    "url", ["/admin/items/item/", "/admin/sensors/reading/", "/admin/games/score/"]
)
def test_export_selected_is_offered_on_the_item_reading_and_score_lists(admin_client, url):
    from tests.exports.factories import make_readings
    from tests.games.factories import PlayerFactory, make_score

    make_items(1)
    make_readings("A", 1)
    make_score(PlayerFactory(username="cat"), points=100)
    page = admin_client.get(url).content.decode()
    assert 'value="export_selected"' in page


def test_the_reading_list_action_downloads_the_selected_readings(admin_client):
    from sensors.models import Reading
    from tests.exports.factories import make_readings

    make_readings("A", 5)
    chosen = list(Reading.objects.order_by("timestamp").values_list("pk", flat=True)[:2])
    response = admin_client.post(
        "/admin/sensors/reading/",
        {"action": "export_selected", "_selected_action": chosen},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        {"sensor": "A", "timestamp": "2026-03-01 12:00:00+00", "value": "50"},
        {"sensor": "A", "timestamp": "2026-03-01 12:01:00+00", "value": "51"},
    ]


def test_export_selected_is_put_on_the_dataset_admins_by_the_exports_app():
    from pathlib import Path

    from exports.admin import export_selected as action
    from items.models import Item as ItemModel
    from sensors.models import Reading

    assert action in site._registry[ItemModel].actions
    assert action in site._registry[Reading].actions
    # The dependency runs one way: only exports knows the other apps.
    for app in ("items", "sensors", "games"):
        assert "exports" not in Path(f"{app}/admin.py").read_text()
