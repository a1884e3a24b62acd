"""The outbox's writing side: alert and export changes queue their notifications with them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from exports import services as export_services
from exports.choices import Status
from exports.models import Export
from notifications.models import Notification, NotificationChannel
from notifications.services import notifications_enqueue
from sensors.models import Alert
from sensors.services import alert_acknowledge, alerts_evaluate
from tests.notifications.factories import ChannelFactory
from tests.sensors.factories import SensorFactory, minute, store

pytestmark = pytest.mark.django_db


def queued(channel=None) -> list[tuple[str, str]]:
    rows = Notification.objects.order_by("id")
    if channel is not None:
        rows = rows.filter(channel=channel)
    return list(rows.values_list("event", "source"))


def test_an_alert_that_opens_and_closes_queues_opened_then_closed_with_the_alert_in_the_payload():
    channel = ChannelFactory(events=["alert.opened", "alert.closed"])
    sensor = SensorFactory(code="A", name="Boiler", unit="°C", high_threshold=65)
    store(sensor, 60, 66, 70, 64)
    summary = alerts_evaluate()
    alert = Alert.objects.get()
    assert summary.notifications == 2
    assert queued(channel) == [
        ("alert.opened", f"alert:{alert.pk}"),
        ("alert.closed", f"alert:{alert.pk}"),
    ]
    opened, closed = Notification.objects.order_by("id")
    assert opened.payload == {
        "sensor": {
            "code": "A",
            "name": "Boiler",
            "unit": "°C",
            "low_threshold": None,
            "high_threshold": 65.0,
        },
        "alert": {
            "id": alert.pk,
            "kind": "high",
            "opened_at": minute(1).isoformat(),
            "closed_at": minute(3).isoformat(),
            "peak_value": 70.0,
            "reading_count": 2,
            "acknowledged_at": None,
        },
    }
    assert opened.subject == "Sensor A (Boiler): high alert opened, peak 70 °C"
    assert (opened.status, opened.attempts, opened.next_attempt_at <= timezone.now()) == (
        "pending",
        0,
        True,
    )
    assert opened.delivery_id != closed.delivery_id


def test_an_alert_open_across_runs_is_announced_once_and_closed_later():
    channel = ChannelFactory(events=["alert.opened", "alert.closed"])
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 66, 67)
    alerts_evaluate()
    assert [event for event, _ in queued(channel)] == ["alert.opened"]
    assert Notification.objects.get().payload["alert"]["closed_at"] is None
    alerts_evaluate()  # nothing new: nothing queued
    store(sensor, 60, start=2)
    alerts_evaluate()
    assert [event for event, _ in queued(channel)] == ["alert.opened", "alert.closed"]


def test_a_channel_scoped_to_sensor_a_hears_nothing_from_b():
    only_a = ChannelFactory(sensors=["A"])
    every = ChannelFactory(sensors=[])
    a = SensorFactory(code="A", high_threshold=65)
    b = SensorFactory(code="B", high_threshold=65)
    store(b, 66, 60)
    alerts_evaluate()
    assert queued(only_a) == []
    assert [event for event, _ in queued(every)] == ["alert.opened", "alert.closed"]
    store(a, 66)
    alerts_evaluate()
    assert [event for event, _ in queued(only_a)] == ["alert.opened"]


def test_only_subscribed_events_and_active_channels_are_queued():
    closed_only = ChannelFactory(events=["alert.closed"])
    inactive = ChannelFactory(is_active=False)
    exports_only = ChannelFactory(events=["export.failed"])
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 66, 60)
    alerts_evaluate()
    assert [event for event, _ in queued(closed_only)] == ["alert.closed"]
    assert queued(inactive) == [] and queued(exports_only) == []


def test_a_rolled_back_alert_change_leaves_no_notification_behind():
    ChannelFactory()
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 66, 67)
    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        assert alerts_evaluate().opened == 1
        assert Notification.objects.count() == 1
        raise RuntimeError("boom")
    assert Alert.objects.count() == 0 and Notification.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueueing_outside_a_transaction_is_refused():
    ChannelFactory(events=["export.failed"])
    with pytest.raises(RuntimeError, match="inside the transaction"):
        notifications_enqueue(event="export.failed", subject="x", payload={})
    assert Notification.objects.count() == 0


def test_an_unknown_event_cannot_be_queued():
    with pytest.raises(ValueError), transaction.atomic():
        notifications_enqueue(event="alert.exploded", subject="x", payload={})


def _age_notifications(seconds: float) -> None:
    Notification.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_reminders_repeat_every_period_while_open_and_stop_when_acknowledged(staff_user):
    channel = ChannelFactory(events=["alert.opened", "alert.repeat"], repeat_every=600)
    no_repeat = ChannelFactory(events=["alert.opened", "alert.repeat"], repeat_every=0)
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 66, 67)
    alerts_evaluate()
    alerts_evaluate()
    assert [event for event, _ in queued(channel)] == ["alert.opened"]
    _age_notifications(599)
    alerts_evaluate()
    assert [event for event, _ in queued(channel)] == ["alert.opened"]
    _age_notifications(601)
    alerts_evaluate()
    alerts_evaluate()  # a second run in the same period reminds no one again
    assert [event for event, _ in queued(channel)] == ["alert.opened", "alert.repeat"]
    assert [event for event, _ in queued(no_repeat)] == ["alert.opened"]
    repeat = Notification.objects.get(event="alert.repeat")
    assert repeat.subject == "Sensor A (Sensor A): high alert still open, peak 67 °C"

    alert_acknowledge(alert_id=Alert.objects.get().pk, user=staff_user)
    _age_notifications(3600)
    alerts_evaluate()
    assert [event for event, _ in queued(channel)] == ["alert.opened", "alert.repeat"]


def test_a_closed_alert_is_not_repeated():
    channel = ChannelFactory(events=["alert.repeat"], repeat_every=60)
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 66, 60)
    alerts_evaluate()
    _age_notifications(3600)
    alerts_evaluate()
    assert queued(channel) == []


def test_a_succeeded_export_queues_export_succeeded_with_the_export():
    channel = ChannelFactory(events=["export.succeeded", "export.failed"], sensors=["A"])
    export = export_services.export_run(dataset="sensors", fmt="csv")
    assert export.status == Status.SUCCEEDED
    notification = Notification.objects.get(channel=channel)
    assert (notification.event, notification.source) == ("export.succeeded", f"export:{export.pk}")
    body = notification.payload["export"]
    assert (body["id"], body["status"], body["key"], body["rows"]) == (
        export.pk,
        "succeeded",
        export.key,
        export.rows,
    )


def test_a_failed_export_queues_export_failed_once_with_the_reason():
    channel = ChannelFactory(events=["export.succeeded", "export.failed"])
    export = export_services.export_start(dataset="items", fmt="csv")
    assert export_services.export_finish(export=export, status=Status.FAILED, reason="disk full")
    assert not export_services.export_finish(
        export=export, status=Status.FAILED, reason="and again"
    )
    notification = Notification.objects.get(channel=channel)
    assert notification.event == "export.failed"
    assert notification.subject == f"Export #{export.pk} (items.csv) failed: disk full"
    assert notification.payload["export"]["error"] == "disk full"
    assert Export.objects.get().error == "disk full"


def test_a_cancelled_export_is_reported_as_failed(staff_user):
    channel = ChannelFactory(events=["export.failed"])
    export = export_services.export_request(dataset="items", fmt="csv")
    export_services.export_cancel(export=export, by=staff_user)
    notification = Notification.objects.get(channel=channel)
    assert notification.payload["export"]["error"] == "Cancelled by staff."


def test_an_export_whose_lease_expired_is_reported_as_failed():
    channel = ChannelFactory(events=["export.failed"])
    export = export_services.export_start(dataset="items", fmt="csv")
    Export.objects.filter(pk=export.pk).update(
        lease_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert export_services.leases_expire() == [export.pk]
    notification = Notification.objects.get(channel=channel)
    assert notification.event == "export.failed"
    assert "lease" in notification.payload["export"]["error"]


def test_seed_demo_makes_a_console_email_channel_that_hears_the_demo_alerts(mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    from notifications import services
    from notifications.demo import DEMO_CHANNEL

    call_command("seed_demo", stdout=StringIO())
    channel = NotificationChannel.objects.get(name=DEMO_CHANNEL)
    assert (channel.kind, channel.target) == ("email", "ops@example.com")
    queued_events = set(Notification.objects.values_list("event", flat=True))
    assert {"alert.opened", "alert.closed"} <= queued_events
    run = services.notifications_deliver_due(batch=500)
    assert run.sent == run.claimed > 0
    assert mailoutbox[0].to == ["ops@example.com"]
