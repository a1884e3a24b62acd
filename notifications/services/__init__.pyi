"""Notification services; import from here (``from notifications import services``)."""

from .delivery import (
    DeliveryRun,
    lease_for,
    notification_attempt,
    notification_send_test,
    notifications_claim,
    notifications_deliver_due,
    notifications_retry,
)
from .enqueue import notifications_enqueue, notifications_enqueue_repeats

__all__ = [
    "DeliveryRun",
    "lease_for",
    "notification_attempt",
    "notification_send_test",
    "notifications_claim",
    "notifications_deliver_due",
    "notifications_enqueue",
    "notifications_enqueue_repeats",
    "notifications_retry",
]
