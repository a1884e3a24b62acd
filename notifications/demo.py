from __future__ import annotations

from typing import Any

from notifications.choices import ChannelKind, Event
from notifications.models import NotificationChannel

DEMO_CHANNEL = "Demo: email to ops (console)"


def demo_seed(*, stdout: Any) -> None:
    """An email channel hearing every event, so the demo's alerts and export queue deliveries.

    With the default ``EMAIL_URL=console://`` ``deliver_notifications`` prints them. Runs before
    the sensors' demo (see seed_demo), so their alerts find the channel.
    """
    _, created = NotificationChannel.objects.get_or_create(
        name=DEMO_CHANNEL,
        defaults={
            "kind": ChannelKind.EMAIL,
            "target": "ops@example.com",
            "events": list(Event.values),
            "repeat_every": 3600,
        },
    )
    stdout.write(
        f"Notification channel {DEMO_CHANNEL!r}: {'created' if created else 'already there'} "
        "(send the queue with: manage.py deliver_notifications)."
    )
