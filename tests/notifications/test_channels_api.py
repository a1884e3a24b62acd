from __future__ import annotations

import json

import pytest

from notifications.models import Notification, NotificationChannel
from notifications.rules import signature_matches
from tests.helpers import assert_error
from tests.notifications.factories import SECRET, ChannelFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/notification-channels/"


def webhook(**overrides) -> dict:
    return {
        "name": "ops hook",
        "kind": "webhook",
        "target": "https://hooks.example.com/targets",
        "secret": SECRET,
        "events": ["alert.opened", "alert.closed"],
        **overrides,
    }


def test_staff_create_a_webhook_channel_and_its_secret_is_never_shown_back(staff_client):
    response = staff_client.post(URL, webhook(sensors=["A", "B"], repeat_every=900))
    assert response.status_code == 201, response.content
    body = response.json()
    assert "secret" not in body and body["has_secret"] is True
    assert SECRET not in response.content.decode()
    assert (body["sensors"], body["events"], body["repeat_every"]) == (
        ["A", "B"],
        ["alert.opened", "alert.closed"],
        900,
    )
    channel = NotificationChannel.objects.get()
    assert channel.secret == SECRET
    listed = staff_client.get(URL)
    assert SECRET not in listed.content.decode()
    assert listed.json()["results"][0]["has_secret"] is True
    detail = staff_client.get(f"{URL}{channel.pk}/")
    assert "secret" not in detail.json()


def test_an_email_channel_takes_comma_separated_addresses(staff_client):
    response = staff_client.post(
        URL,
        {
            "name": "on call",
            "kind": "email",
            "target": "ops@example.com, lead@example.com",
            "events": ["export.failed"],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["target"] == "ops@example.com, lead@example.com"
    assert response.json()["has_secret"] is False


@pytest.mark.parametrize(
    "target",
    ["ftp://hooks.example.com/x", "file:///etc/passwd", "javascript:alert(1)", "hooks.example.com"],
)
def test_a_webhook_target_that_is_not_http_is_a_400_naming_target(staff_client, target):
    error = assert_error(staff_client.post(URL, webhook(target=target)), 400, "validation_error")
    assert list(error["details"]) == ["target"]
    assert "http" in error["details"]["target"][0]


def test_an_unknown_event_is_a_400_naming_it(staff_client):
    response = staff_client.post(URL, webhook(events=["alert.opened", "alert.exploded"]))
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["events"]
    assert "alert.exploded" in error["details"]["events"][0]


@pytest.mark.parametrize("target", ["", "   "])
def test_an_empty_target_is_a_400_naming_target(staff_client, target):
    error = assert_error(staff_client.post(URL, webhook(target=target)), 400, "validation_error")
    assert list(error["details"]) == ["target"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"events": []}, "events"),
        ({"events": "alert.opened"}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": ""}, "secret"),
        ({"kind": "sms"}, "kind"),
        ({"sensors": ["A", "not a code!"]}, "sensors"),
        ({"repeat_every": -1}, "repeat_every"),
        ({"repeat_every": "60"}, "repeat_every"),
        ({"id": 5}, "id"),
        ({"has_secret": False}, "has_secret"),
    ],
)
def test_other_bad_input_is_a_400_naming_the_field(staff_client, overrides, field):
    error = assert_error(staff_client.post(URL, webhook(**overrides)), 400, "validation_error")
    assert field in error["details"], error


def test_an_email_target_with_a_bad_address_is_a_400(staff_client):
    response = staff_client.post(
        URL,
        {
            "name": "x",
            "kind": "email",
            "target": "ops@example.com, nobody",
            "events": ["export.failed"],
        },
    )
    error = assert_error(response, 400, "validation_error")
    assert "'nobody'" in error["details"]["target"][0]


def test_patching_without_a_secret_keeps_the_stored_one(staff_client):
    channel = ChannelFactory()
    response = staff_client.patch(f"{URL}{channel.pk}/", {"repeat_every": 60})
    assert response.status_code == 200, response.content
    channel.refresh_from_db()
    assert (channel.secret, channel.repeat_every) == (SECRET, 60)


def test_only_staff_manage_channels(user_client, api_client):
    channel = ChannelFactory()
    assert_error(user_client.get(URL), 403)
    assert_error(user_client.post(URL, webhook()), 403)
    assert_error(user_client.post(f"{URL}{channel.pk}/test/"), 403)
    assert_error(api_client.get("/api/v1/notifications/"), 401)


def test_the_test_action_sends_a_signed_test_message_now(staff_client, receiver):
    server = receiver(statuses=[204])
    channel = ChannelFactory(target=server.url)
    response = staff_client.post(f"{URL}{channel.pk}/test/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent" and response.json()["event"] == "test"
    (request,) = server.requests
    assert request.headers["X-Targets-Event"] == "test"
    assert request.headers["X-Targets-Delivery"] == response.json()["delivery_id"]
    assert signature_matches(
        secret=SECRET, body=request.body, header=request.headers["X-Targets-Signature"]
    )
    assert json.loads(request.body)["channel"]["name"] == channel.name


def test_a_failed_test_message_is_a_502_with_the_reason(staff_client, receiver):
    server = receiver(statuses=[500])
    channel = ChannelFactory(target=server.url)
    error = assert_error(staff_client.post(f"{URL}{channel.pk}/test/"), 502, "delivery_failed")
    assert "HTTP 500" in error["message"]
    assert Notification.objects.get().status == "dead"


def test_deliveries_are_listed_newest_first_with_a_filter_by_status(
    staff_client, django_assert_num_queries
):
    channel = ChannelFactory()
    for index in range(3):
        Notification.objects.create(
            channel=channel,
            event="alert.opened",
            subject=f"n{index}",
            payload={},
            next_attempt_at="2026-01-01T00:00:00Z",
            status="dead" if index == 0 else "pending",
        )
    with django_assert_num_queries(3):  # token with its user, count, page (channel joined)
        response = staff_client.get("/api/v1/notifications/")
    body = response.json()
    assert body["count"] == 3
    assert [row["subject"] for row in body["results"]] == ["n2", "n1", "n0"]
    assert body["results"][0]["channel_name"] == channel.name
    dead = staff_client.get("/api/v1/notifications/?status=dead").json()
    assert [row["subject"] for row in dead["results"]] == ["n0"]
    assert_error(staff_client.get("/api/v1/notifications/?status=lost"), 400)
