"""The outbox's writing side: producers call these inside the transaction of their change.

Sensors (alerts) and exports call in; notifications never imports them. A producer hands over a
ready payload (what the receiver will read), a subject line and a ``source`` naming the record
the event is about ("alert:42"), so reminders can find the last notification about it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from notifications.choices import DeliveryStatus, Event
from notifications.models import Notification, NotificationChannel
from notifications.rules import channel_hears, repeat_due

SUBJECT_MAX = 200


def _require_transaction() -> None:
    # An outbox row written outside the change's transaction could be committed without the
    # change (an invented notification) or lost with it; refuse instead of guessing.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "Notifications are enqueued inside the transaction of the change they report."
        )


def _hearing_channels(*, event: str, sensor_code: str | None) -> list[NotificationChannel]:
    channels = NotificationChannel.objects.filter(is_active=True).only(
        "id", "events", "sensors", "repeat_every"
    )
    return [
        channel
        for channel in channels
        if channel_hears(
            events=channel.events, sensors=channel.sensors, event=event, sensor_code=sensor_code
        )
    ]


def notifications_enqueue(
    *,
    event: Event | str,
    subject: str,
    payload: dict[str, Any],
    source: str = "",
    sensor_code: str | None = None,
) -> int:
    """Write one pending notification per active channel that hears ``event``; returns how many.

    Must run inside the producer's transaction (RuntimeError otherwise).
    """
    event = Event(event).value
    _require_transaction()
    channels = _hearing_channels(event=event, sensor_code=sensor_code)
    if not channels:
        return 0
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                channel=channel,
                event=event,
                source=source,
                subject=subject[:SUBJECT_MAX],
                payload=payload,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
            for channel in channels
        ]
    )
    return len(channels)


def notifications_enqueue_repeats(
    *,
    source: str,
    sensor_code: str | None,
    subject: str,
    payload: dict[str, Any],
    opened_at: datetime,
    acknowledged: bool,
    now: datetime | None = None,
) -> int:
    """Remind each channel due a reminder about an open alert (see ``rules.repeat_due``).

    The caller holds a lock that serialises calls for one alert (check_thresholds holds the
    sensor's row lock), so two runs never remind the same channel twice for one period.
    """
    _require_transaction()
    if acknowledged:
        return 0
    now = now or timezone.now()
    channels = [
        channel
        for channel in _hearing_channels(event=Event.ALERT_REPEAT, sensor_code=sensor_code)
        if channel.repeat_every > 0
    ]
    if not channels:
        return 0
    last_by_channel = dict(
        Notification.objects.filter(source=source, channel__in=channels)
        .values("channel")
        .annotate(last=Max("created_at"))
        .values_list("channel", "last")
    )
    due = [
        channel
        for channel in channels
        if repeat_due(
            opened_at=opened_at,
            last_notified_at=last_by_channel.get(channel.id),
            repeat_every=channel.repeat_every,
            acknowledged=acknowledged,
            now=now,
        )
    ]
    Notification.objects.bulk_create(
        [
            Notification(
                channel=channel,
                event=Event.ALERT_REPEAT,
                source=source,
                subject=subject[:SUBJECT_MAX],
                payload=payload,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
            for channel in due
        ]
    )
    return len(due)
