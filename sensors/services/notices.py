"""What the alert service tells the notification outbox (sensors calls notifications, never
the reverse). Called inside the transaction that changes the alert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from notifications.services import notifications_enqueue, notifications_enqueue_repeats
from sensors.models import Alert, Sensor

_VERBS = {
    "alert.opened": "opened",
    "alert.closed": "closed",
    "alert.repeat": "still open",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def alert_payload(sensor: Sensor, alert: Alert) -> dict[str, Any]:
    return {
        "sensor": {
            "code": sensor.code,
            "name": sensor.name,
            "unit": sensor.unit,
            "low_threshold": sensor.low_threshold,
            "high_threshold": sensor.high_threshold,
        },
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "opened_at": _iso(alert.opened_at),
            "closed_at": _iso(alert.closed_at),
            "peak_value": alert.peak_value,
            "reading_count": alert.reading_count,
            "acknowledged_at": _iso(alert.acknowledged_at),
        },
    }


def _subject(event: str, sensor: Sensor, alert: Alert) -> str:
    label = f"{sensor.code} ({sensor.name})" if sensor.name else sensor.code
    text = f"Sensor {label}: {alert.kind} alert {_VERBS[event]}"
    if alert.peak_value is not None:
        text += f", peak {alert.peak_value:g}{(' ' + sensor.unit) if sensor.unit else ''}"
    return text


def alert_notify(*, event: str, sensor: Sensor, alert: Alert) -> int:
    return notifications_enqueue(
        event=event,
        subject=_subject(event, sensor, alert),
        payload=alert_payload(sensor, alert),
        source=f"alert:{alert.pk}",
        sensor_code=sensor.code,
    )


def alert_remind(*, sensor: Sensor, alert: Alert) -> int:
    """``alert.repeat`` to every channel whose reminder about this open alert is due."""
    return notifications_enqueue_repeats(
        source=f"alert:{alert.pk}",
        sensor_code=sensor.code,
        subject=_subject("alert.repeat", sensor, alert),
        payload=alert_payload(sensor, alert),
        opened_at=alert.opened_at,
        acknowledged=alert.acknowledged_at is not None,
        now=timezone.now(),
    )
