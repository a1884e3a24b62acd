from __future__ import annotations

import pytest

from sensors.models import Alert, Sensor
from sensors.services import alerts_evaluate
from tests.helpers import assert_error
from tests.sensors.factories import SensorFactory, minute, store

pytestmark = pytest.mark.django_db


def test_anyone_lists_sensors_by_code(api_client):
    SensorFactory(code="B")
    SensorFactory(code="A", high_threshold=65, hysteresis=1.5)
    body = api_client.get("/api/v1/sensors/").json()
    assert [row["code"] for row in body["results"]] == ["A", "B"]
    assert body["results"][0]["high_threshold"] == 65.0
    assert body["results"][0]["hysteresis"] == 1.5
    assert api_client.get("/api/v1/sensors/A/").json()["code"] == "A"


def test_staff_create_update_and_delete_a_sensor(staff_client):
    body = {"code": "T-1", "name": "Tank", "unit": "%", "low_threshold": 10, "min_duration": 60}
    created = staff_client.post("/api/v1/sensors/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["min_duration"] == 60 and created.json()["high_threshold"] is None
    patched = staff_client.patch("/api/v1/sensors/T-1/", {"high_threshold": 90}, format="json")
    assert patched.status_code == 200 and patched.json()["low_threshold"] == 10.0
    assert staff_client.delete("/api/v1/sensors/T-1/").status_code == 204
    assert not Sensor.objects.exists()


def test_non_staff_cannot_write_sensors(user_client, api_client):
    assert_error(user_client.post("/api/v1/sensors/", {"code": "X"}, format="json"), 403)
    assert_error(api_client.post("/api/v1/sensors/", {"code": "X"}, format="json"), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "A", "low_threshold": 70, "high_threshold": 60}, "low_threshold"),
        ({"code": "A", "low_threshold": 70, "high_threshold": 70}, "low_threshold"),
        ({"code": "A", "hysteresis": -1}, "hysteresis"),
        ({"code": "A", "hysteresis": "1"}, "hysteresis"),
        ({"code": "A", "min_duration": -5}, "min_duration"),
        ({"code": "A", "min_duration": 10**9}, "min_duration"),
        ({"code": "A,B"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "x" * 51}, "code"),
        ({"code": 12}, "code"),
        ({"code": "A", "id": 5}, "id"),
        ({"code": "A", "created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_bad_sensor_bodies_are_400_naming_the_field(staff_client, body, field):
    error = assert_error(staff_client.post("/api/v1/sensors/", body, format="json"), 400)
    assert field in error["details"], error


def test_an_overflowing_threshold_is_400(staff_client):
    body = b'{"code": "A", "high_threshold": 1e999}'
    response = staff_client.generic(
        "POST", "/api/v1/sensors/", body, content_type="application/json"
    )
    assert "high_threshold" in assert_error(response, 400)["details"]


def test_a_duplicate_code_is_400(staff_client):
    SensorFactory(code="A")
    error = assert_error(staff_client.post("/api/v1/sensors/", {"code": "A"}, format="json"), 400)
    assert "code" in error["details"]


def test_a_partial_update_is_checked_against_the_stored_thresholds(staff_client):
    SensorFactory(code="A", low_threshold=10, high_threshold=20)
    response = staff_client.patch("/api/v1/sensors/A/", {"low_threshold": 30}, format="json")
    assert_error(response, 400)


def test_an_unknown_sensor_is_a_json_404(api_client):
    assert_error(api_client.get("/api/v1/sensors/NOPE/"), 404, "not_found")
    assert_error(api_client.get("/api/v1/sensors/NOPE/plot.png"), 404)


def test_breaches_lists_readings_beyond_either_threshold_with_their_kind(api_client):
    sensor = SensorFactory(code="A", low_threshold=40, high_threshold=65)
    store(sensor, 50, 65, 66, 40, 39, 50)
    body = api_client.get("/api/v1/sensors/A/breaches/").json()
    assert body["count"] == 2
    assert [(row["value"], row["kind"]) for row in body["results"]] == [(66, "high"), (39, "low")]
    ranged = api_client.get(
        "/api/v1/sensors/A/breaches/", {"from": minute(3).isoformat(), "to": minute(5).isoformat()}
    ).json()
    assert [row["value"] for row in ranged["results"]] == [39]


def test_a_sensor_without_thresholds_has_no_breaches(api_client):
    sensor = SensorFactory(code="A", high_threshold=None)
    store(sensor, 1000)
    assert api_client.get("/api/v1/sensors/A/breaches/").json()["count"] == 0


def test_alerts_are_listed_newest_first_and_filter_by_open(api_client):
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 70, 60, 71, 72)
    alerts_evaluate()
    body = api_client.get("/api/v1/sensors/A/alerts/").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert (first["kind"], first["is_open"], first["peak_value"], first["sensor"]) == (
        "high",
        True,
        72.0,
        "A",
    )
    closed = api_client.get("/api/v1/sensors/A/alerts/", {"open": "false"}).json()
    assert [row["closed_at"] for row in closed["results"]] == ["2026-01-01T00:01:00Z"]
    assert_error(api_client.get("/api/v1/sensors/A/alerts/", {"open": "maybe"}), 400)


def test_alert_list_query_count_is_fixed(api_client, django_assert_num_queries):
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, *([70, 60] * 30))
    alerts_evaluate()
    # sensor lookup, count, page (sensor and acknowledging user joined)
    with django_assert_num_queries(3):
        response = api_client.get("/api/v1/sensors/A/alerts/")
    assert response.json()["count"] == 30


def test_staff_acknowledge_an_alert_once(staff_client, staff_user):
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 70)
    alerts_evaluate()
    alert = Alert.objects.get()
    url = f"/api/v1/sensors/A/alerts/{alert.pk}/acknowledge/"
    response = staff_client.post(url)
    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_by"] == "staff"
    assert_error(staff_client.post(url), 409, "conflict")
    alert.refresh_from_db()
    assert alert.acknowledged_by == staff_user


def test_only_staff_acknowledge_and_only_alerts_of_that_sensor(user_client, staff_client):
    a, b = SensorFactory(code="A"), SensorFactory(code="B")
    store(a, 70)
    store(b, 70)
    alerts_evaluate()
    alert_of_b = Alert.objects.get(sensor=b)
    assert_error(user_client.post(f"/api/v1/sensors/B/alerts/{alert_of_b.pk}/acknowledge/"), 403)
    assert_error(staff_client.post(f"/api/v1/sensors/A/alerts/{alert_of_b.pk}/acknowledge/"), 404)
    assert_error(staff_client.post("/api/v1/sensors/A/alerts/999999/acknowledge/"), 404)


def test_deleting_a_sensor_removes_its_readings_alerts_and_marks(staff_client):
    from sensors.models import Reading, ReadingMark

    sensor = SensorFactory(code="A", high_threshold=65)
    keep = SensorFactory(code="B")
    store(sensor, 70, 60, 71)
    store(keep, 1)
    alerts_evaluate()
    store(sensor, 72, start=10)  # leaves a mark behind
    assert staff_client.delete("/api/v1/sensors/A/").status_code == 204
    assert list(Reading.objects.values_list("sensor__code", flat=True)) == ["B"]
    assert not Alert.objects.exists()
    assert not ReadingMark.objects.filter(sensor_id=sensor.pk).exists()


def test_readings_for_a_sensor_deleted_after_its_lookup_are_refused():
    from django.db import connection

    from sensors.models import Reading
    from sensors.services import readings_store
    from targets_site.errors import Conflict

    sensor = SensorFactory(code="A")
    with connection.cursor() as cursor:  # a delete that committed after the code lookup
        cursor.execute("DELETE FROM sensors_sensor WHERE id = %s", [sensor.pk])
    with pytest.raises(Conflict):
        readings_store(rows=[(sensor.pk, minute(0), 1.0)])
    assert not Reading.objects.exists()


def test_sensor_and_breach_list_query_counts_are_fixed(api_client, django_assert_num_queries):
    for code in ("A", "B", "C"):
        store(SensorFactory(code=code, high_threshold=65), *([70, 60] * 20))
    with django_assert_num_queries(2):  # count, page
        assert api_client.get("/api/v1/sensors/").json()["count"] == 3
    with django_assert_num_queries(3):  # sensor, count, page
        assert api_client.get("/api/v1/sensors/A/breaches/").json()["count"] == 20
