"""Delivery rules of the notification outbox, framework-free (no ORM, no network).

The rules, also in docs/notifications.md:

- A channel hears an event when the event is in its ``events`` and, for alert events, when its
  ``sensors`` list is empty (every sensor) or names the alert's sensor. Export events are not
  about a sensor: every channel subscribed to them hears them.
- A webhook body is the JSON object ``{"event", "sent_at", **payload}`` encoded once; the
  signature is ``sha256=`` + the hex HMAC-SHA256 of exactly those bytes keyed with the channel
  secret (the GitHub convention), so a receiver verifies the raw body before parsing it.
- Any 2xx answer is a delivery. Anything else (another status, a refused connection, a timeout)
  is a failed attempt.
- After failed attempt ``n`` (1-based) the next one is due after
  ``min(cap, base * 2 ** (n - 1))`` seconds, half of it fixed and half random ("equal jitter":
  retries from many rows spread out, yet never come sooner than half the nominal delay).
  After ``MAX_ATTEMPTS`` failed attempts the delivery is dead.
- ``alert.repeat``: while an alert is open and unacknowledged, a channel with
  ``repeat_every > 0`` is reminded once ``repeat_every`` seconds have passed since the last
  notification it got about that alert (or, if it got none, since the alert opened).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 3600.0
SIGNATURE_PREFIX = "sha256="

ALERT_EVENTS = frozenset({"alert.opened", "alert.closed", "alert.repeat"})


def channel_hears(
    *, events: Iterable[str], sensors: Iterable[str], event: str, sensor_code: str | None
) -> bool:
    if event not in set(events):
        return False
    scope = set(sensors)
    if not scope or event not in ALERT_EVENTS:
        return True
    return sensor_code in scope


def webhook_body(*, event: str, sent_at: datetime, payload: dict[str, Any]) -> bytes:
    document = {"event": event, "sent_at": sent_at.isoformat(), **payload}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signature(*, secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_matches(*, secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: compare in constant time against the header it got."""
    if not header:
        return False
    return hmac.compare_digest(signature(secret=secret, body=body), header)


def webhook_headers(*, event: str, delivery_id: str, secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Targets-Notifications/1",
        "X-Targets-Event": event,
        "X-Targets-Delivery": delivery_id,
        "X-Targets-Signature": signature(secret=secret, body=body),
    }


def is_delivered(status: int) -> bool:
    return 200 <= status < 300


def backoff_delay(
    attempt: int,
    *,
    base: float = BACKOFF_BASE_S,
    cap: float = BACKOFF_CAP_S,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based), jitter included."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    # 2 ** 60 is far past any cap; bounding the exponent keeps the float finite.
    nominal = min(cap, base * 2.0 ** min(attempt - 1, 60))
    return nominal / 2 + rand() * nominal / 2


def is_last_attempt(attempt: int, *, max_attempts: int = MAX_ATTEMPTS) -> bool:
    return attempt >= max_attempts


def repeat_due(
    *,
    opened_at: datetime,
    last_notified_at: datetime | None,
    repeat_every: int,
    acknowledged: bool,
    now: datetime,
) -> bool:
    if repeat_every <= 0 or acknowledged:
        return False
    since = last_notified_at or opened_at
    return now - since >= timedelta(seconds=repeat_every)


def email_body(*, event: str, subject: str, payload: dict[str, Any]) -> str:
    """Plain text: the subject line, then the same JSON a webhook gets, for people and filters."""
    details = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)
    return f"{subject}\n\nEvent: {event}\n\n{details}\n"
