from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import Notification, NotificationChannel
from tests.notifications.factories import SECRET, ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return client


def form(**overrides) -> dict:
    return {
        "name": "ops",
        "kind": "webhook",
        "target": "https://hooks.example.com/x",
        "secret": "",
        "sensors": "A, B",
        "events": ["alert.opened", "alert.closed"],
        "repeat_every": "0",
        "is_active": "on",
        **overrides,
    }


def test_the_channel_page_never_shows_the_secret_and_an_empty_one_keeps_it(admin_client):
    channel = ChannelFactory(name="ops")
    page = admin_client.get(f"/admin/notifications/notificationchannel/{channel.pk}/change/")
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    response = admin_client.post(
        f"/admin/notifications/notificationchannel/{channel.pk}/change/", form()
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    channel.refresh_from_db()
    assert (channel.secret, channel.sensors) == (SECRET, ["A", "B"])
    assert channel.events == ["alert.opened", "alert.closed"]


def test_adding_a_webhook_channel_needs_an_http_url_and_a_secret(admin_client):
    url = "/admin/notifications/notificationchannel/add/"
    response = admin_client.post(url, form(target="ftp://x.example.com/"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "http:// or https://" in page and "at least 16 characters" in page
    assert not NotificationChannel.objects.exists()
    assert admin_client.post(url, form(secret=SECRET)).status_code == 302
    assert NotificationChannel.objects.get().secret == SECRET


def test_retry_now_makes_dead_deliveries_due_again_and_leaves_others(admin_client):
    channel = ChannelFactory()
    now = timezone.now()
    dead = Notification.objects.create(
        channel=channel,
        event="alert.opened",
        subject="dead",
        payload={},
        status="dead",
        attempts=10,
        last_error="HTTP 500",
        next_attempt_at=now,
    )
    sent = Notification.objects.create(
        channel=channel,
        event="alert.opened",
        subject="sent",
        payload={},
        status="sent",
        attempts=1,
        next_attempt_at=now,
    )
    response = admin_client.post(
        "/admin/notifications/notification/",
        {"action": "retry_now", "_selected_action": [dead.pk, sent.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 dead deliveries are due again" in page
    assert "1 were not dead" in page
    dead.refresh_from_db()
    sent.refresh_from_db()
    assert (dead.status, dead.attempts) == ("pending", 0)
    assert dead.next_attempt_at >= now
    assert sent.status == "sent"


def test_the_delivery_list_shows_status_attempts_and_last_error(admin_client):
    channel = ChannelFactory(name="ops")
    Notification.objects.create(
        channel=channel,
        event="export.failed",
        subject="Export #1 failed",
        payload={},
        status="dead",
        attempts=10,
        last_error="HTTP 503: maintenance",
        next_attempt_at=timezone.now(),
    )
    page = admin_client.get("/admin/notifications/notification/").content.decode()
    assert "Export #1 failed" in page and "HTTP 503: maintenance" in page
    assert admin_client.get("/admin/notifications/notification/add/").status_code == 403
