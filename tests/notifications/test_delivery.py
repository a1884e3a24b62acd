"""The outbox's sending side against real servers: an HTTP receiver and an SMTP server."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from notifications.rules import MAX_ATTEMPTS, signature_matches
from sensors.services import alerts_evaluate
from tests.notifications.factories import SECRET, ChannelFactory
from tests.sensors.factories import SensorFactory, store

pytestmark = pytest.mark.django_db


def open_alert_for(channel) -> Notification:
    sensor = SensorFactory(code="A", high_threshold=65)
    store(sensor, 66)
    alerts_evaluate()
    return Notification.objects.get(channel=channel)


def time_passes_until_due(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())


def test_a_receiver_answering_500_twice_then_204_gets_one_delivery_id_three_times(receiver):
    server = receiver(statuses=[500, 500, 204])
    channel = ChannelFactory(target=server.url, events=["alert.opened"])
    notification = open_alert_for(channel)

    first = services.notifications_deliver_due()
    notification.refresh_from_db()
    assert (first.failed, notification.status, notification.attempts) == (1, "pending", 1)
    assert notification.last_error.startswith("HTTP 500")
    wait = (notification.next_attempt_at - timezone.now()).total_seconds()
    assert 4 <= wait <= 10  # attempt 1: 10 s nominal, half of it jittered
    assert services.notifications_deliver_due().claimed == 0  # not due yet

    time_passes_until_due(notification)
    assert services.notifications_deliver_due().failed == 1
    notification.refresh_from_db()
    wait = (notification.next_attempt_at - timezone.now()).total_seconds()
    assert 9 <= wait <= 20  # attempt 2: 20 s nominal

    time_passes_until_due(notification)
    assert services.notifications_deliver_due().sent == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == ("sent", 3, "")
    assert notification.sent_at is not None

    assert server.delivery_ids() == [str(notification.delivery_id)] * 3
    assert [request.status for request in server.requests] == [500, 500, 204]
    for request in server.requests:
        assert request.headers["X-Targets-Event"] == "alert.opened"
        assert request.headers["Content-Type"] == "application/json"
        assert signature_matches(
            secret=SECRET, body=request.body, header=request.headers["X-Targets-Signature"]
        )
        body = json.loads(request.body)
        assert body["event"] == "alert.opened"
        assert body["sensor"]["code"] == "A" and body["alert"]["kind"] == "high"
        assert set(body) == {"event", "sent_at", "sensor", "alert"}
    time_passes_until_due(notification)
    assert services.notifications_deliver_due().claimed == 0  # sent stays sent


def test_a_signature_made_with_another_secret_does_not_verify(receiver):
    server = receiver()
    channel = ChannelFactory(target=server.url, events=["alert.opened"])
    open_alert_for(channel)
    services.notifications_deliver_due()
    (request,) = server.requests
    header = request.headers["X-Targets-Signature"]
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert not signature_matches(secret="another-secret-0123456", body=request.body, header=header)
    assert not signature_matches(secret=SECRET, body=request.body + b" ", header=header)


def test_a_delivery_is_dead_after_its_last_attempt_and_retry_now_revives_it(receiver):
    server = receiver(statuses=[503])
    channel = ChannelFactory(target=server.url, events=["alert.opened"])
    notification = open_alert_for(channel)
    for _ in range(MAX_ATTEMPTS - 1):
        assert services.notifications_deliver_due().failed == 1
        time_passes_until_due(notification)
    assert services.notifications_deliver_due().dead == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("dead", MAX_ATTEMPTS)
    assert notification.last_error.startswith("HTTP 503")
    assert len(server.requests) == MAX_ATTEMPTS
    time_passes_until_due(notification)
    assert services.notifications_deliver_due().claimed == 0

    assert services.notifications_retry(ids=[notification.pk]) == 1
    server.statuses = [204]
    assert services.notifications_deliver_due().sent == 1
    assert set(server.delivery_ids()) == {str(notification.delivery_id)}


def test_a_refused_connection_and_a_redirect_are_failed_attempts(receiver):
    server = receiver(statuses=[302])
    closed = receiver()
    closed.close()
    refused = ChannelFactory(target=closed.url, events=["alert.opened"])
    redirected = ChannelFactory(target=server.url, events=["alert.opened"])
    open_alert_for(refused)
    run = services.notifications_deliver_due()
    assert (run.claimed, run.failed) == (2, 2)
    errors = dict(Notification.objects.values_list("channel", "last_error"))
    assert "Connection refused" in errors[refused.pk] or "NewConnectionError" in errors[refused.pk]
    assert errors[redirected.pk].startswith("HTTP 302")


def test_a_slow_receiver_times_out_as_a_failed_attempt(receiver):
    server = receiver(statuses=[204], delay_s=2)
    channel = ChannelFactory(target=server.url, events=["alert.opened"])
    notification = open_alert_for(channel)
    run = services.notifications_deliver_due(timeout=0.5)
    notification.refresh_from_db()
    assert run.failed == 1
    assert "timed out" in notification.last_error.lower(), notification.last_error


def test_a_deactivated_channel_gets_nothing(receiver):
    server = receiver()
    channel = ChannelFactory(target=server.url, events=["alert.opened"])
    notification = open_alert_for(channel)
    channel.is_active = False
    channel.save()
    assert services.notifications_deliver_due().dead == 1
    notification.refresh_from_db()
    assert notification.last_error == "The channel was deactivated."
    assert server.requests == []


def test_email_goes_through_a_real_smtp_server(smtp_server):
    channel = ChannelFactory(
        kind="email",
        target="ops@example.com, lead@example.com",
        secret="",
        events=["alert.opened"],
    )
    notification = open_alert_for(channel)
    assert services.notifications_deliver_due().sent == 1
    (mail_from, recipients, content) = smtp_server.messages[0]
    assert recipients == ["ops@example.com", "lead@example.com"]
    assert mail_from == "targets@localhost"
    message = message_from_bytes(content, policy=policy.default)
    assert message["Subject"].strip() == notification.subject
    assert message["X-Targets-Delivery"] == str(notification.delivery_id)
    assert message["X-Targets-Event"] == "alert.opened"
    text = message.get_content()
    assert '"kind": "high"' in text and notification.subject in text


def test_an_smtp_server_that_is_down_is_a_failed_attempt(smtp_server):
    smtp_server.close()
    channel = ChannelFactory(
        kind="email", target="ops@example.com", secret="", events=["alert.opened"]
    )
    notification = open_alert_for(channel)
    assert services.notifications_deliver_due().failed == 1
    notification.refresh_from_db()
    assert "Connection refused" in notification.last_error or "Errno" in notification.last_error


def test_the_command_sends_everything_due_and_reports(receiver):
    server = receiver()
    ChannelFactory(target=server.url, events=["alert.opened", "alert.closed"])
    sensor = SensorFactory(code="A", high_threshold=65)
    for start in range(0, 20, 2):
        store(sensor, 66, 60, start=start)
    alerts_evaluate()
    assert Notification.objects.count() == 20
    out = _call("deliver_notifications", "--batch", "7")
    assert "20 sent, 0 to retry, 0 dead" in out
    assert len(set(server.delivery_ids())) == 20
    assert not Notification.objects.exclude(status="sent").exists()


def test_a_claim_leases_rows_so_a_second_claim_skips_them():
    channel = ChannelFactory(events=["export.failed"])
    with transaction.atomic():
        services.notifications_enqueue(event="export.failed", subject="x", payload={})
    lease = services.lease_for(batch=1, timeout=10)
    (claimed,) = services.notifications_claim(limit=10, lease=lease)
    assert claimed.channel == channel and claimed.attempts == 1
    assert services.notifications_claim(limit=10, lease=lease) == []
    later = timezone.now() + lease + timedelta(seconds=1)
    (again,) = services.notifications_claim(limit=10, lease=lease, now=later)
    assert again.pk == claimed.pk and again.attempts == 2


def _call(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
