"""Admin titles and breadcrumbs name things by code and username, never by database id."""

from __future__ import annotations

import pytest
from django.test import Client

from sensors.models import Alert, Reading
from tests.games.factories import PlayerFactory, make_score
from tests.sensors.factories import SensorFactory, minute

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(make_user) -> Client:
    browser = Client()
    browser.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return browser


def test_an_alert_page_is_titled_with_its_sensor_code(admin_browser):
    sensor = SensorFactory(code="FRIDGE", high_threshold=5)
    alert = Alert.objects.create(
        sensor=sensor, kind="high", opened_at=minute(0), peak_value=9, reading_count=3
    )
    page = admin_browser.get(f"/admin/sensors/alert/{alert.pk}/change/").content.decode()
    assert "FRIDGE high alert from" in page
    assert f"{alert.sensor_id} high alert" not in page.replace("FRIDGE", "")


def test_a_reading_reads_as_its_sensor_code_time_and_value():
    sensor = SensorFactory(code="OVEN")
    reading = Reading.objects.create(sensor=sensor, timestamp=minute(0), value=21.5)
    assert str(reading).startswith("OVEN at ")
    assert str(reading).endswith("= 21.5")


def test_a_score_page_is_titled_with_the_players_name(admin_browser):
    player = PlayerFactory(username="sharpshooter")
    score = make_score(player, points=1760)
    page = admin_browser.get(f"/admin/games/score/{score.pk}/change/").content.decode()
    assert "sharpshooter bullseye 1760 points" in page
