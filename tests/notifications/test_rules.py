from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications.rules import (
    BACKOFF_CAP_S,
    backoff_delay,
    channel_hears,
    is_last_attempt,
    repeat_due,
    signature,
    signature_matches,
    webhook_body,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    # Computed independently: printf '{"event":"test"}' | openssl dgst -sha256 -hmac key
    assert signature(secret="key", body=b'{"event":"test"}') == (
        "sha256=b524d1c679ac9958794a322458b779af498bc20603c6b49807f8f77e092c41c7"
    )


def test_a_signature_verifies_only_with_the_same_secret_and_bytes():
    body = webhook_body(event="alert.opened", sent_at=T0, payload={"alert": {"id": 1}})
    header = signature(secret="k" * 20, body=body)
    assert signature_matches(secret="k" * 20, body=body, header=header)
    assert not signature_matches(secret="k" * 21, body=body, header=header)
    assert not signature_matches(secret="k" * 20, body=body.replace(b"1", b"2"), header=header)
    assert not signature_matches(secret="k" * 20, body=body, header=None)


def test_the_webhook_body_puts_event_and_sent_at_first_then_the_payload():
    body = webhook_body(event="export.failed", sent_at=T0, payload={"export": {"id": 7}})
    assert (
        body == b'{"event":"export.failed","sent_at":"2026-01-01T00:00:00+00:00","export":{"id":7}}'
    )


@pytest.mark.parametrize(
    ("events", "sensors", "event", "code", "hears"),
    [
        (["alert.opened"], [], "alert.opened", "A", True),
        (["alert.opened"], [], "alert.closed", "A", False),
        (["alert.opened"], ["A"], "alert.opened", "A", True),
        (["alert.opened"], ["A"], "alert.opened", "B", False),
        (["export.failed"], ["A"], "export.failed", None, True),
        ([], [], "alert.opened", "A", False),
    ],
)
def test_which_channels_hear_an_event(events, sensors, event, code, hears):
    assert channel_hears(events=events, sensors=sensors, event=event, sensor_code=code) is hears


@pytest.mark.parametrize("attempt", range(1, 15))
def test_backoff_doubles_with_equal_jitter_up_to_the_cap(attempt):
    nominal = min(BACKOFF_CAP_S, 10 * 2 ** (attempt - 1))
    assert backoff_delay(attempt, rand=lambda: 0.0) == nominal / 2
    assert backoff_delay(attempt, rand=lambda: 0.999999) == pytest.approx(nominal, rel=1e-5)
    assert nominal / 2 <= backoff_delay(attempt) <= nominal


def test_backoff_is_finite_for_any_attempt_and_refuses_attempt_zero():
    assert backoff_delay(10_000, rand=lambda: 1.0) == BACKOFF_CAP_S
    with pytest.raises(ValueError):
        backoff_delay(0)


def test_the_tenth_attempt_is_the_last():
    assert not is_last_attempt(9) and is_last_attempt(10)


def test_a_reminder_is_due_a_full_period_after_the_last_notification():
    due = {
        "opened_at": T0,
        "last_notified_at": T0 + timedelta(minutes=5),
        "repeat_every": 600,
        "acknowledged": False,
    }
    assert not repeat_due(**due, now=T0 + timedelta(minutes=14, seconds=59))
    assert repeat_due(**due, now=T0 + timedelta(minutes=15))
    assert not repeat_due(**{**due, "acknowledged": True}, now=T0 + timedelta(days=1))
    assert not repeat_due(**{**due, "repeat_every": 0}, now=T0 + timedelta(days=1))
    assert repeat_due(**{**due, "last_notified_at": None}, now=T0 + timedelta(minutes=10))
