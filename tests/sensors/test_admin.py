from __future__ import annotations

import pytest
from django.test import Client

from sensors.models import Alert
from sensors.services import alerts_evaluate
from tests.sensors.factories import SensorFactory, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def alerting_sensor():
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 70, 60, 72)  # one closed alert, one open
    alerts_evaluate()
    return sensor


def test_the_sensor_page_shows_its_plot_and_only_its_open_alerts(admin_client, alerting_sensor):
    response = admin_client.get(f"/admin/sensors/sensor/{alerting_sensor.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<img src="/api/v1/sensors/A/plot.png?width=1000&amp;height=400"' in page
    assert "open alerts" in page.lower()
    assert "72.0" in page  # the open alert's peak
    assert "70.0" not in page  # the closed alert is not listed


def test_the_sensor_list_counts_open_alerts(admin_client, alerting_sensor):
    response = admin_client.get("/admin/sensors/sensor/")
    assert response.status_code == 200
    assert b"open alerts" in response.content.lower()


def test_staff_acknowledge_alerts_with_the_admin_action(admin_client, alerting_sensor):
    ids = list(Alert.objects.values_list("id", flat=True))
    response = admin_client.post(
        "/admin/sensors/alert/",
        {"action": "acknowledge", "_selected_action": ids},
        follow=True,
    )
    assert response.status_code == 200
    assert b"2 alerts acknowledged" in response.content
    assert not Alert.objects.filter(acknowledged_at__isnull=True).exists()
    again = admin_client.post(
        "/admin/sensors/alert/", {"action": "acknowledge", "_selected_action": ids}, follow=True
    )
    assert b"2 were already acknowledged" in again.content


def test_alerts_and_readings_cannot_be_edited_by_hand(admin_client, alerting_sensor):
    alert = Alert.objects.first()
    page = admin_client.get(f"/admin/sensors/alert/{alert.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get("/admin/sensors/alert/add/").status_code == 403
    assert admin_client.get("/admin/sensors/reading/add/").status_code == 403
    assert admin_client.get("/admin/sensors/reading/").status_code == 200


def _reading_counts(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"] and "sensors_reading" in q["sql"]]


@pytest.mark.postgres
def test_the_unfiltered_readings_list_reads_the_row_estimate_not_a_count(
    admin_client, alerting_sensor, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sensors.admin import EstimatingPaginator

    store(alerting_sensor, *range(20), start=10)
    SensorFactory(code="B")  # a sensor filter is offered only with two sensors or more
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sensors_reading")
    monkeypatch.setattr(EstimatingPaginator, "EXACT_BELOW", 1)
    with CaptureQueriesContext(connection) as unfiltered:
        page = admin_client.get("/admin/sensors/reading/").content.decode()
    assert _reading_counts(unfiltered.captured_queries) == []
    assert "23 readings" in page  # ANALYZE of a small table counts every row
    with CaptureQueriesContext(connection) as filtered:
        admin_client.get(f"/admin/sensors/reading/?sensor__id__exact={alerting_sensor.pk}")
    assert len(_reading_counts(filtered.captured_queries)) == 1


def test_a_small_readings_table_is_counted_exactly(admin_client, alerting_sensor):
    page = admin_client.get("/admin/sensors/reading/").content.decode()
    assert "3 readings" in page
