"""The outbox's sending side: claim due rows, send them, record what happened.

Delivery is at least once. A worker claims a batch in one short transaction
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers on many machines each get
different rows; SQLite's single writer makes the plain claim exclusive) and moves each row's
``next_attempt_at`` past the time the batch can take: the lease. It then sends outside any
transaction and records each result. A worker that dies between sending and recording leaves
its rows pending; when the lease runs out another worker sends them again, with the same
``X-Targets-Delivery`` id, which is what receivers de-duplicate on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.choices import TEST_EVENT, ChannelKind, DeliveryStatus
from notifications.models import Notification, NotificationChannel
from notifications.rules import (
    MAX_ATTEMPTS,
    backoff_delay,
    email_body,
    is_last_attempt,
    webhook_body,
)
from notifications.transport import SendFailed, Transport

logger = logging.getLogger("targets.notifications")

DEFAULT_BATCH = 50
DEFAULT_TIMEOUT_S = 10.0
LEASE_MARGIN_S = 30.0


@dataclass
class DeliveryRun:
    claimed: int = 0
    sent: int = 0
    failed: int = 0  # failed attempts that will be retried
    dead: int = 0

    def add(self, other: DeliveryRun) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead


def lease_for(*, batch: int, timeout: float) -> timedelta:
    """Long enough for every send of a batch to time out one after another."""
    return timedelta(seconds=batch * timeout + LEASE_MARGIN_S)


def notifications_claim(
    *, limit: int, lease: timedelta, now: datetime | None = None
) -> list[Notification]:
    """Take up to ``limit`` due pending rows for this worker, oldest due first."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", "attempts")[:limit]
        )
        rows = list(due)
        if not rows:
            return []
        # A row whose lease ran out after its last attempt: the worker died sending it, and
        # its attempts are spent.
        spent = [row_id for row_id, attempts in rows if attempts >= MAX_ATTEMPTS]
        if spent:
            Notification.objects.filter(id__in=spent).update(
                status=DeliveryStatus.DEAD,
                last_error="The worker stopped during the last attempt; no result was recorded.",
            )
        ids = [row_id for row_id, attempts in rows if attempts < MAX_ATTEMPTS]
        Notification.objects.filter(id__in=ids).update(
            attempts=F("attempts") + 1, next_attempt_at=now + lease
        )
    return list(Notification.objects.filter(id__in=ids).select_related("channel").order_by("id"))


def _send(notification: Notification, transport: Transport, *, now: datetime) -> None:
    channel = notification.channel
    delivery_id = str(notification.delivery_id)
    if channel.kind == ChannelKind.WEBHOOK:
        body = webhook_body(event=notification.event, sent_at=now, payload=notification.payload)
        transport.post_webhook(
            url=channel.target,
            event=notification.event,
            delivery_id=delivery_id,
            secret=channel.secret,
            body=body,
        )
    else:
        transport.send_email(
            to=[address.strip() for address in channel.target.split(",") if address.strip()],
            subject=notification.subject,
            body=email_body(
                event=notification.event,
                subject=notification.subject,
                payload=notification.payload,
            ),
            headers={"X-Targets-Event": notification.event, "X-Targets-Delivery": delivery_id},
        )


@dataclass
class Attempt:
    notification: Notification
    error: str | None  # None: delivered
    last_try: bool


def _attempt(notification: Notification, transport: Transport, *, last_try: bool) -> Attempt:
    if not notification.channel.is_active:
        return Attempt(notification, "The channel was deactivated.", last_try=True)
    try:
        _send(notification, transport, now=timezone.now())
    except SendFailed as exc:
        error = str(exc)
    except Exception as exc:  # a bug must not stop the batch: the row is retried like a failure
        logger.exception("notification %s: unexpected error while sending", notification.pk)
        error = f"{type(exc).__name__}: {exc}"[:500]
    else:
        return Attempt(notification, None, last_try)
    logger.info(
        "notification %s (%s) attempt %d failed: %s",
        notification.pk,
        notification.event,
        notification.attempts,
        error,
    )
    return Attempt(notification, error, last_try)


def notifications_record(attempts: list[Attempt]) -> list[str]:
    """Store a batch's results in one transaction (one commit, not one per row): the delivered
    rows in one UPDATE, each failure on its own row; only rows still pending change. Returns each
    row's new status."""
    now = timezone.now()
    statuses: list[str] = []
    with transaction.atomic():
        delivered = [attempt.notification.pk for attempt in attempts if attempt.error is None]
        if delivered:
            Notification.objects.filter(pk__in=delivered, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.SENT, sent_at=now, last_error="", updated_at=now
            )
        for attempt in attempts:
            if attempt.error is None:
                statuses.append(DeliveryStatus.SENT)
                continue
            pending = Notification.objects.filter(
                pk=attempt.notification.pk, status=DeliveryStatus.PENDING
            )
            if attempt.last_try:
                pending.update(status=DeliveryStatus.DEAD, last_error=attempt.error, updated_at=now)
                statuses.append(DeliveryStatus.DEAD)
                continue
            retry_at = now + timedelta(seconds=backoff_delay(attempt.notification.attempts))
            pending.update(next_attempt_at=retry_at, last_error=attempt.error, updated_at=now)
            statuses.append(DeliveryStatus.PENDING)
    return statuses


def notification_attempt(
    notification: Notification, transport: Transport, *, last_try: bool | None = None
) -> str:
    """Send a claimed notification once and record the outcome; returns the new status."""
    if last_try is None:
        last_try = is_last_attempt(notification.attempts)
    return notifications_record([_attempt(notification, transport, last_try=last_try)])[0]


def notifications_deliver_due(
    *,
    batch: int = DEFAULT_BATCH,
    timeout: float = DEFAULT_TIMEOUT_S,
    transport: Transport | None = None,
) -> DeliveryRun:
    """Claim one batch of due notifications, send each, then record the batch's results."""
    run = DeliveryRun()
    claimed = notifications_claim(limit=batch, lease=lease_for(batch=batch, timeout=timeout))
    run.claimed = len(claimed)
    if not claimed:
        return run
    own = transport is None
    transport = transport or Transport(timeout=timeout)
    try:
        attempts = [
            _attempt(notification, transport, last_try=is_last_attempt(notification.attempts))
            for notification in claimed
        ]
    finally:
        if own:
            transport.close()
    for status in notifications_record(attempts):
        if status == DeliveryStatus.SENT:
            run.sent += 1
        elif status == DeliveryStatus.DEAD:
            run.dead += 1
        else:
            run.failed += 1
    return run


def notification_send_test(
    *, channel: NotificationChannel, timeout: float = DEFAULT_TIMEOUT_S
) -> Notification:
    """Send a ``test`` message to ``channel`` now, once, and keep it in the delivery list."""
    now = timezone.now()
    with transaction.atomic():
        notification = Notification.objects.create(
            channel=channel,
            event=TEST_EVENT,
            subject=f"Test message for channel {channel.name}",
            payload={"channel": {"id": channel.pk, "name": channel.name, "kind": channel.kind}},
            attempts=1,
            # Leased like a claimed row: no worker picks it up while it is being sent here.
            next_attempt_at=now + lease_for(batch=1, timeout=timeout),
        )
    notification.channel = channel
    with Transport(timeout=timeout) as transport:
        notification_attempt(notification, transport, last_try=True)
    notification.refresh_from_db()
    return notification


def notifications_retry(*, ids: list[int]) -> int:
    """Give dead notifications a fresh set of attempts, due now (the admin's "retry now")."""
    return Notification.objects.filter(id__in=ids, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        updated_at=timezone.now(),
    )
