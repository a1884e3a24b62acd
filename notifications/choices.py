from __future__ import annotations

from django.db import models


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (HTTP POST)"
    EMAIL = "email", "Email"


class Event(models.TextChoices):
    ALERT_OPENED = "alert.opened", "Alert opened"
    ALERT_CLOSED = "alert.closed", "Alert closed"
    ALERT_REPEAT = "alert.repeat", "Alert still open (reminder)"
    EXPORT_SUCCEEDED = "export.succeeded", "Export succeeded"
    EXPORT_FAILED = "export.failed", "Export failed"


# A delivery's own event for POST .../{id}/test/; channels never subscribe to it.
TEST_EVENT = "test"
DELIVERY_EVENTS = [*Event.choices, (TEST_EVENT, "Test message")]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead (gave up)"
