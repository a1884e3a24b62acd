"""A staff member's first day, in a real browser (Debian's Chromium via Playwright).

Each test starts a fresh browser context against pytest-django's live server and logs in through
the admin's own login form, so what passes here is what a person clicking through would see.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from items.models import Item
from sensors.models import Alert, Sensor
from sensors.services import alerts_evaluate, readings_store
from tests.browser.conftest import STAFF_PASSWORD, admin_log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def sensor_with_an_open_alert(code: str = "A") -> Sensor:
    """A sensor whose last readings breach its high threshold: one open alert."""
    sensor = Sensor.objects.create(
        code=code, name="Boiler temperature", unit="°C", high_threshold=65.0
    )
    start = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    values = [50.0 + (i % 10) for i in range(100)] + [70.0, 72.5, 71.0]
    readings_store(
        rows=[(sensor.id, start + timedelta(minutes=i), value) for i, value in enumerate(values)]
    )
    alerts_evaluate(sensor_codes=[code])
    return sensor


def test_a_wrong_password_keeps_the_visitor_on_the_login_form(page, staff_member):
    admin_log_in(page, staff_member.username, "not the password")

    assert "/admin/login/" in page.page.url
    assert page.page.locator(".errornote").is_visible()


def test_staff_logs_in_and_adds_an_item_that_shows_in_the_list(page, staff_member):
    admin_log_in(page, staff_member.username, STAFF_PASSWORD)
    assert page.page.locator("#site-name").is_visible()
    assert (
        page.page.get_by_role("link", name="Log out").count()
        + page.page.locator("#logout-form").count()
    )

    page.goto("/admin/items/item/add/")
    page.page.fill("#id_sku", "TRK-1")
    page.page.fill("#id_name", "Trackball")
    page.page.fill("#id_price", "89.90")
    page.page.fill("#id_stock_quantity", "5")
    page.page.click("input[name=_save]")
    page.page.wait_for_load_state()

    assert page.page.locator(".messagelist .success").is_visible()
    assert page.page.locator("#result_list").get_by_text("Trackball").is_visible()
    item = Item.objects.get(sku="TRK-1")
    assert (item.name, item.price, item.stock_quantity) == ("Trackball", Decimal("89.90"), 5)


def test_an_invalid_item_is_refused_with_the_form_errors_shown(admin_page):
    admin_page.goto("/admin/items/item/add/")
    admin_page.page.fill("#id_sku", "NEG-1")
    admin_page.page.fill("#id_name", "Negative")
    admin_page.page.fill("#id_price", "-1")
    admin_page.page.click("input[name=_save]")
    admin_page.page.wait_for_load_state()

    assert admin_page.page.locator(".errornote").is_visible()
    assert not Item.objects.filter(sku="NEG-1").exists()


def test_the_sensor_page_shows_its_plot_image_and_open_alerts(admin_page):
    sensor = sensor_with_an_open_alert()
    plots = []
    admin_page.page.on(
        "response", lambda response: plots.append(response) if ".png" in response.url else None
    )

    admin_page.goto(f"/admin/sensors/sensor/{sensor.pk}/change/")
    plot = admin_page.page.locator("img[alt='Readings of A']")
    plot.wait_for()
    admin_page.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=plot.element_handle()
    )

    assert plot.evaluate("img => img.naturalWidth") > 0
    assert [(r.status, r.headers["content-type"]) for r in plots] == [(200, "image/png")]
    inline = admin_page.page.locator(".inline-group", has_text="open alerts")
    assert inline.get_by_text("72.5").is_visible()


def test_staff_acknowledges_an_alert_with_the_admin_action(admin_page, staff_member):
    sensor = sensor_with_an_open_alert()
    alert = Alert.objects.get(sensor=sensor)
    assert alert.acknowledged_at is None

    admin_page.goto("/admin/sensors/alert/")
    admin_page.page.check(f"input[name=_selected_action][value='{alert.pk}']")
    admin_page.page.select_option("select[name=action]", "acknowledge")
    admin_page.page.click("button[name=index]")
    admin_page.page.wait_for_load_state()

    assert (
        admin_page.page.locator(".messagelist").get_by_text("1 alerts acknowledged.").is_visible()
    )
    alert.refresh_from_db()
    assert alert.acknowledged_by == staff_member
    assert alert.acknowledged_at is not None


def test_swagger_ui_renders_every_operation_from_local_assets_only(admin_page):
    admin_page.requested.clear()

    admin_page.goto("/api/docs/")
    operations = admin_page.page.locator(".opblock")
    operations.first.wait_for()

    paths = set(admin_page.page.locator(".opblock-summary-path").all_inner_texts())
    # One operation of each app, and the platform's token exchange.
    assert {
        "/api/v1/auth/token/",
        "/api/v1/items/{id}/",
        "/api/v1/readings/",
        "/api/v1/plots/readings.png",
        "/api/v1/scores/",
        "/api/v1/leaderboards/{mode}/",
        "/api/v1/exports/{id}/download/",
    } <= {path.replace("\u200b", "") for path in paths}
    assert any("/api/schema/" in url for url in admin_page.requested)
    foreign = [url for url in admin_page.requested if urlsplit(url).hostname not in LOCAL_HOSTS]
    assert foreign == []


def test_the_item_list_is_readable_with_prices_as_entered(admin_page):
    Item.objects.create(sku="LAP-1", name="Laptop", price=Decimal("1200.00"), stock_quantity=3)

    admin_page.goto("/admin/items/item/?q=laptop")

    row = admin_page.page.locator("#result_list tbody tr")
    assert row.count() == 1
    assert "1200.00" in row.inner_text()


def test_a_finished_export_downloads_from_the_export_list(admin_page, local_exports):
    from exports.services import export_run

    Item.objects.create(sku="LAP-1", name="Laptop", price=Decimal("1200.00"), stock_quantity=3)
    Item.objects.create(sku="EQ-1", name="=HYPERLINK(1)", price=Decimal("1.00"))
    export = export_run(dataset="items", fmt="csv", storage="local")
    assert export.status == "succeeded"

    admin_page.goto("/admin/exports/export/")
    with admin_page.page.expect_download() as download_info:
        admin_page.page.locator("#result_list").get_by_role("link", name="download").click()
    download = download_info.value

    assert download.suggested_filename == export.filename
    body = download.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(row["sku"], row["name"]) for row in rows] == [
        ("LAP-1", "Laptop"),
        ("EQ-1", "'=HYPERLINK(1)"),
    ]


def test_staff_exports_selected_items_as_csv_from_the_item_list(admin_page):
    Item.objects.create(sku="LAP-1", name="Laptop", price=Decimal("1200.00"), stock_quantity=3)
    Item.objects.create(sku="MOU-1", name="Wireless Mouse", price=Decimal("25.50"))
    Item.objects.create(sku="HUB-1", name="USB-C Hub", price=Decimal("49.99"))

    admin_page.goto("/admin/items/item/")
    admin_page.page.check("tr:has-text('LAP-1') input[name=_selected_action]")
    admin_page.page.check("tr:has-text('HUB-1') input[name=_selected_action]")
    admin_page.page.select_option("select[name=action]", "export_selected")
    with admin_page.page.expect_download() as download_info:
        admin_page.page.click("button[name=index]")
    download = download_info.value

    assert download.suggested_filename.startswith("items-selected-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert [(row["sku"], row["price"]) for row in rows] == [
        ("LAP-1", "1200.00"),
        ("HUB-1", "49.99"),
    ]
