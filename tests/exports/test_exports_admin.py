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


def test_the_export_list_shows_status_size_hash_and_a_download_link(admin_client):
    make_items(2)
    done = services.export_run(dataset="items", fmt="csv")
    pending = services.export_request(dataset="readings", fmt="json")
    page = admin_client.get("/admin/exports/export/").content.decode()
    assert f"/api/v1/exports/{done.pk}/download/" in page
    assert f"/api/v1/exports/{pending.pk}/download/" not in page
    assert done.sha256[:12] in page
    assert "succeeded" in page and "pending" in page
    assert "bytes" in page  # filesizeformat of a small file


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
