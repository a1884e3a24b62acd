"""The admin on a common laptop screen (1366x768), filled with the demo data.

Every list a staff member opens on the first day must fit the window without a horizontal scroll
bar (the export list's download link was off-screen), and every title names things by their codes
and usernames, never by database ids.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from exports.models import Export
from sensors.models import Alert, Sensor
from tests.browser.conftest import STAFF_PASSWORD, RecordedPage, admin_log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
CHANGELISTS = [
    "/admin/items/item/",
    "/admin/sensors/sensor/",
    "/admin/sensors/alert/",
    "/admin/sensors/reading/",
    "/admin/games/score/",
    "/admin/exports/export/",
    "/admin/accounts/apikey/",
    "/admin/notifications/notificationchannel/",
]


@pytest.fixture
def laptop_admin(browser, live_server, staff_member):
    call_command("seed_demo", stdout=StringIO())
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    recorded = RecordedPage(context.new_page(), live_server.url)
    admin_log_in(recorded, staff_member.username, STAFF_PASSWORD)
    yield recorded
    context.close()


# The admin wraps its tables in scrolling boxes, so a table too wide for the window scrolls inside
# its box while the page itself "fits": both are measured.
OVERFLOW_JS = """() => {
    const page = document.documentElement.scrollWidth - window.innerWidth;
    const boxes = [...document.querySelectorAll('.results, .tabular fieldset, .module')].map(
        (box) => box.scrollWidth - box.clientWidth);
    return Math.max(0, page, ...boxes);
}"""


def overflow(recorded) -> int:
    """How many pixels the page, or a table's box in it, is wider than it shows (0 when it fits)."""
    return recorded.page.evaluate(OVERFLOW_JS)


def test_every_admin_list_fits_a_1366_pixel_window(laptop_admin):
    too_wide = {}
    for path in CHANGELISTS:
        response = laptop_admin.goto(path)
        assert response.status == 200, path
        assert laptop_admin.page.locator("#result_list").count() == 1, path
        if excess := overflow(laptop_admin):
            too_wide[path] = excess
    assert too_wide == {}


def test_the_export_lists_download_link_is_on_screen(laptop_admin):
    export = Export.objects.get()
    laptop_admin.goto("/admin/exports/export/")
    link = laptop_admin.page.locator("#result_list a", has_text="download").first
    box = link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= LAPTOP["width"]
    assert link.get_attribute("href").endswith(f"/exports/{export.pk}/download/")


def test_the_demo_sensor_page_shows_its_open_alert_with_codes_in_the_titles(laptop_admin):
    sensor = Sensor.objects.get(code="A")
    laptop_admin.goto(f"/admin/sensors/sensor/{sensor.pk}/change/")
    page = laptop_admin.page
    assert overflow(laptop_admin) == 0
    assert page.title().startswith("A |")
    assert page.locator(".breadcrumbs").inner_text().endswith(str(sensor))
    inline = page.locator(".inline-group", has_text="open alerts")
    assert inline.locator("tbody tr.has_original").count() == 1


def test_a_read_only_alert_page_says_where_its_button_goes(laptop_admin):
    alert = Alert.objects.filter(sensor__code="A", closed_at__isnull=True).get()
    laptop_admin.goto(f"/admin/sensors/alert/{alert.pk}/change/")
    page = laptop_admin.page
    assert overflow(laptop_admin) == 0
    assert page.title().startswith("A high alert from ")
    assert page.locator(".breadcrumbs").inner_text().endswith(str(alert))
    assert page.get_by_role("link", name="Close", exact=True).count() == 0
    back = page.get_by_role("link", name="Back to alerts")
    assert back.count() == 1
    back.click()
    page.wait_for_load_state()
    assert page.url.endswith("/admin/sensors/alert/")
