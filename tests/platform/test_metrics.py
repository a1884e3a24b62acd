"""GET /metrics: Prometheus text for operators, readable only from METRICS_ALLOWED_IPS."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from exports.models import Export
from sensors.models import Alert
from tests.games.factories import make_score
from tests.items.factories import ItemFactory
from tests.sensors.factories import SensorFactory, store

pytestmark = pytest.mark.django_db


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_latency_is_counted_by_view_method_and_status(client):
    ItemFactory()
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/v1/items/").status_code == 200
    client.get("/api/v1/items/999999/")
    after = scrape(client)

    count = "targets_http_request_duration_seconds_count"
    labels = {"view": "item-list", "method": "GET", "status": "200"}
    assert value(after, count, **labels) - value(before, count, **labels) == 3
    missing = {"view": "item-detail", "method": "GET", "status": "404"}
    assert value(after, count, **missing) - value(before, count, **missing) == 1
    # Buckets are cumulative and end in +Inf, which equals the count.
    inf = value(after, "targets_http_request_duration_seconds_bucket", **labels, le="+Inf")
    assert inf == value(after, count, **labels)


def test_unknown_paths_share_one_series_whatever_the_path(client):
    before = scrape(client)
    for n in range(5):
        client.get(f"/no-such-page-{n}")
    after = scrape(client)
    count = "targets_http_request_duration_seconds_count"
    labels = {"view": "unresolved", "method": "GET", "status": "404"}
    assert value(after, count, **labels) - value(before, count, **labels) == 5
    assert not any("no-such-page" in str(key) for key in after)


def test_metrics_are_a_404_for_a_client_outside_the_allowed_addresses(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


def test_behind_the_proxy_the_real_client_address_decides(client):
    # nginx connects from loopback; the client it forwards for is not allowed. client_ip is DRF's
    # get_ident, which reads NUM_PROXIES from REST_FRAMEWORK (settings.py sets both from the env).
    proxied = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with override_settings(NUM_PROXIES=1, REST_FRAMEWORK=proxied):
        outsider = client.get(
            "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
        insider = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert outsider.status_code == 404
    assert insider.status_code == 200


@override_settings(METRICS_ALLOWED_IPS=["10.0.0.0/8"])
def test_allowed_addresses_may_be_networks(client):
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_open_alerts_and_exports_are_counted_by_kind_and_status(client, staff_user):
    now = timezone.now()
    for code, kind in (("M1", "high"), ("M2", "high"), ("M3", "low")):
        Alert.objects.create(
            sensor=SensorFactory(code=code), kind=kind, opened_at=now, peak_value=1, reading_count=1
        )
    Alert.objects.create(
        sensor=SensorFactory(code="M4"),
        kind="high",
        opened_at=now - dt.timedelta(hours=1),
        closed_at=now,
        peak_value=1,
        reading_count=1,
    )
    for status in ("pending", "pending", "failed", "succeeded"):
        Export.objects.create(
            dataset="items", format="csv", storage="local", fingerprint="x", status=status
        )

    samples = scrape(client)

    assert value(samples, "targets_alerts_open", kind="high") == 2
    assert value(samples, "targets_alerts_open", kind="low") == 1
    assert value(samples, "targets_exports", status="pending") == 2
    assert value(samples, "targets_exports", status="failed") == 1
    assert value(samples, "targets_exports", status="running") == 0
    assert value(samples, "targets_database_up") == 1


def test_readings_and_scores_are_counted_when_committed(
    client, make_user, django_capture_on_commit_callbacks
):
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        sensor = SensorFactory(code="MR")
        assert store(sensor, 1, 2, 3, 4) == 4
        store(sensor, 1, 2, 3, 4)  # re-sent: nothing new
        make_score(make_user("scorer"), points=80, hits=1)
    after = scrape(client)

    def delta(name):
        return value(after, name) - value(before, name)

    assert delta("targets_readings_ingested_total") == 4
    assert delta("targets_scores_submitted_total") == 1
    assert delta("targets_scores_verified_total") == 0


def test_notification_gauges_follow_the_notifications_app(client):
    if not apps.is_installed("notifications"):
        names = {name for name, _labels in scrape(client)}
        assert "targets_notifications_pending" not in names
        return
    channel_model = apps.get_model("notifications.NotificationChannel")
    notification_model = apps.get_model("notifications.Notification")
    channel = channel_model.objects.create(
        name="ops", kind="webhook", target="http://127.0.0.1:9/hook", events=["alert.opened"]
    )
    for status in ("pending", "pending", "pending", "dead", "sent"):
        notification_model.objects.create(
            channel=channel,
            event="alert.opened",
            subject="A high",
            payload={},
            status=status,
            next_attempt_at=timezone.now(),
        )

    samples = scrape(client)

    assert value(samples, "targets_notifications_pending") == 3
    assert value(samples, "targets_notifications_recent", status="pending") == 3
    assert value(samples, "targets_notifications_recent", status="dead") == 1
    assert value(samples, "targets_notifications_recent", status="sent") == 1


@override_settings(METRICS_ENABLED=False)
def test_metrics_can_be_turned_off(client):
    assert client.get("/metrics").status_code == 404
