from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from notifications.choices import DELIVERY_EVENTS, ChannelKind, DeliveryStatus


class NotificationChannel(models.Model):
    """Where notifications go: one webhook URL or a list of email addresses."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # A URL (webhook) or comma-separated addresses (email).
    target = models.TextField(max_length=2000)
    # The HMAC key webhooks are signed with. Kept as given (a hash could not sign); never
    # shown back by the API or the admin.
    secret = models.CharField(max_length=200, blank=True, default="")
    # Sensor codes, matched as text (no foreign key: notifications know nothing of sensors, and
    # a sensor created later under a listed code is covered). Empty: every sensor.
    sensors = models.JSONField(default=list, blank=True)
    events = models.JSONField(default=list)
    repeat_every = models.PositiveIntegerField(
        default=0,
        help_text="Seconds between reminders while an alert stays open and unacknowledged "
        "(0: never).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ChannelKind.values), name="channel_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """One delivery to one channel: an outbox row, written with the change it reports."""

    channel = models.ForeignKey(
        NotificationChannel, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=20, choices=DELIVERY_EVENTS)
    # What it is about, e.g. "alert:42" or "export:7": reminders look up the last one per alert.
    source = models.CharField(max_length=40, blank=True, default="")
    subject = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    # Sent as X-Targets-Delivery, the same on every attempt, so receivers can de-duplicate.
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due. A worker that claims the row moves it past its send timeout
    # (a lease): a crashed worker's rows become due again by themselves.
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The worker's claim: due pending rows, oldest due first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status=DeliveryStatus.PENDING),
                name="notification_due_idx",
            ),
            models.Index(fields=["source", "channel"], name="notification_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="notification_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event} to {self.channel_id} ({self.status})"
