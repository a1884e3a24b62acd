"""Threshold evaluation: an ordered stream of readings in, alert episodes and events out.

Framework-free on purpose (no ORM, no request): the alert service feeds it readings from the
database and reconciles what it returns with the stored alerts. The rules, also in
docs/sensors.md:

- A reading breaches *high* when ``value > high`` and *low* when ``value < low``; a value equal to
  a threshold is not a breach. A missing threshold never breaches.
- A breach starts at its first breaching reading. An alert opens once the breach has lasted
  ``min_duration`` seconds (the time from that first reading to the latest consecutive breaching
  reading is ``>= min_duration``); with ``min_duration == 0`` it opens on the first breaching
  reading. A breach that ends sooner opens nothing (Grafana's pending period).
- The alert's ``opened_at`` is the start of the breach, not the reading that confirmed it, so an
  episode covers every breaching reading that belongs to it.
- An open high alert closes on the first reading with ``value <= high - hysteresis``; a low alert
  on ``value >= low + hysteresis`` (Home Assistant's threshold sensor). Readings in between keep it
  open without counting as breaches. A reading that breaches the *other* side closes it at once and
  starts a breach of that side.
- ``peak_value`` is the most extreme breaching value of the episode and ``reading_count`` the
  number of breaching readings in it (pending ones included).
- Readings must arrive in time order. One at or before the last evaluated reading is *late*: it is
  not applied but returned in ``Evaluation.late``, so the caller can rewind and evaluate again.

Silence (``max_silence`` seconds; None turns it off), the same in one pass or run by run:

- A sensor is silent once no reading is newer than ``now - max_silence``. The *silent* episode
  opens at ``last reading + max_silence`` (the moment the silence became an alert) and closes at
  the next reading, which is then evaluated as usual from an idle state. ``peak_value`` is None
  and ``reading_count`` 0.
- Going silent closes an open high/low episode at the sensor's last reading (its state is no
  longer known) and forgets a pending breach.
- ``evaluate`` finds the silences *between* readings (a gap longer than ``max_silence``);
  ``evaluate_silence`` finds the one going on *now*, after the last reading (or, for a sensor
  that never reported, after ``watched_since``). A silent episode carried in from an earlier run
  ends at the next reading, exactly where ``evaluate`` over the whole series would end it.
- A reading dated before a carried silent episode's start means the silence never happened: the
  episode is dropped (the caller withdraws it, and should rewind: see ``silence_contradicted``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

HIGH = "high"
LOW = "low"
SILENT = "silent"
OPEN = "open"
CLOSE = "close"


@dataclass(frozen=True)
class ThresholdRule:
    low: float | None = None
    high: float | None = None
    hysteresis: float = 0.0
    min_duration: float = 0.0  # seconds
    max_silence: float | None = None  # seconds; None: silence is never an alert

    def __post_init__(self) -> None:
        if self.max_silence is not None and (
            self.max_silence <= 0 or not math.isfinite(self.max_silence)
        ):
            raise ValueError("max_silence must be a finite number > 0 (or None)")
        if self.hysteresis < 0 or not math.isfinite(self.hysteresis):
            raise ValueError("hysteresis must be a finite number >= 0")
        if self.min_duration < 0 or not math.isfinite(self.min_duration):
            raise ValueError("min_duration must be a finite number >= 0")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError("low threshold must be below the high threshold")

    def breach_kind(self, value: float) -> str | None:
        if self.high is not None and value > self.high:
            return HIGH
        if self.low is not None and value < self.low:
            return LOW
        return None

    def clears(self, kind: str, value: float) -> bool:
        """True when ``value`` is back inside by the hysteresis margin, closing a ``kind`` alert."""
        if kind == HIGH:
            return self.high is None or value <= self.high - self.hysteresis
        return self.low is None or value >= self.low + self.hysteresis


@dataclass(frozen=True)
class Episode:
    """One alert: open while ``closed_at`` is None."""

    kind: str
    opened_at: datetime
    closed_at: datetime | None
    peak_value: float | None  # None for a silent episode
    reading_count: int


@dataclass(frozen=True)
class Pending:
    """A breach that has not yet lasted ``min_duration``."""

    kind: str
    since: datetime
    last_at: datetime
    peak_value: float
    reading_count: int


@dataclass(frozen=True)
class EvaluatorState:
    """What carries over between runs: the open episode or the pending breach, and the cursor."""

    open: Episode | None = None
    pending: Pending | None = None
    last_timestamp: datetime | None = None


@dataclass(frozen=True)
class AlertEvent:
    action: str  # OPEN or CLOSE
    kind: str
    at: datetime  # the reading that decided it
    opened_at: datetime  # the episode it belongs to


@dataclass
class Evaluation:
    state: EvaluatorState
    # Every episode this evaluation touched, in time order; the carried open one comes first.
    episodes: list[Episode] = field(default_factory=list)
    events: list[AlertEvent] = field(default_factory=list)
    late: list[tuple[datetime, float]] = field(default_factory=list)
    evaluated: int = 0


def _more_extreme(kind: str, a: float | None, b: float) -> float:
    if a is None:
        return b
    return max(a, b) if kind == HIGH else min(a, b)


def silence_starts(rule: ThresholdRule, last: datetime) -> datetime:
    assert rule.max_silence is not None
    return last + timedelta(seconds=rule.max_silence)


def is_silent_gap(rule: ThresholdRule, last: datetime | None, at: datetime) -> bool:
    """No reading newer than ``at - max_silence``: a silence lies between ``last`` and ``at``."""
    if rule.max_silence is None or last is None:
        return False
    return (at - last).total_seconds() > rule.max_silence


def silence_contradicted(state: EvaluatorState, first_new: datetime) -> bool:
    """A reading dated inside the window before a carried silent episode began: it was no
    silence after all, and everything since its last reading must be evaluated again."""
    return state.open is not None and state.open.kind == SILENT and first_new < state.open.opened_at


def evaluate(
    rule: ThresholdRule,
    readings: Iterable[tuple[datetime, float]],
    state: EvaluatorState | None = None,
) -> Evaluation:
    """Apply ``readings`` (ascending timestamps) to ``state`` and report what happened."""
    state = state or EvaluatorState()
    current: Episode | None = state.open
    pending: Pending | None = state.pending
    last = state.last_timestamp
    result = Evaluation(state=state)
    # Index in result.episodes of the open episode, so updates replace it in place.
    current_index: int | None = None
    if current is not None:
        result.episodes.append(current)
        current_index = 0

    def start_breach(kind: str, at: datetime, value: float) -> None:
        nonlocal current, pending, current_index
        if rule.min_duration <= 0:
            current = Episode(kind, at, None, value, 1)
            result.episodes.append(current)
            current_index = len(result.episodes) - 1
            result.events.append(AlertEvent(OPEN, kind, at, at))
            pending = None
        else:
            pending = Pending(kind, at, at, value, 1)

    for at, value in readings:
        if last is not None and at <= last:
            result.late.append((at, value))
            continue
        previous, last = last, at
        result.evaluated += 1
        kind = rule.breach_kind(value)

        if current is not None and current.kind == SILENT:
            assert current_index is not None
            if at < current.opened_at:
                # It was no silence: this reading is within max_silence of the one before.
                del result.episodes[current_index]
                result.events = [event for event in result.events if event.kind != SILENT]
            else:
                result.episodes[current_index] = replace(current, closed_at=at)
                result.events.append(AlertEvent(CLOSE, SILENT, at, current.opened_at))
            current, current_index, pending = None, None, None
        elif previous is not None and is_silent_gap(rule, previous, at):
            if current is not None:
                assert current_index is not None
                closed = replace(current, closed_at=previous)
                result.episodes[current_index] = closed
                result.events.append(AlertEvent(CLOSE, closed.kind, previous, closed.opened_at))
                current, current_index = None, None
            pending = None
            began = silence_starts(rule, previous)
            result.episodes.append(Episode(SILENT, began, at, None, 0))
            result.events.append(AlertEvent(OPEN, SILENT, began, began))
            result.events.append(AlertEvent(CLOSE, SILENT, at, began))

        if current is not None:
            assert current_index is not None
            if kind == current.kind:
                current = replace(
                    current,
                    peak_value=_more_extreme(kind, current.peak_value, value),
                    reading_count=current.reading_count + 1,
                )
                result.episodes[current_index] = current
                continue
            if kind is None and not rule.clears(current.kind, value):
                continue  # inside the hysteresis band: still open
            closed = replace(current, closed_at=at)
            result.episodes[current_index] = closed
            result.events.append(AlertEvent(CLOSE, closed.kind, at, closed.opened_at))
            current, current_index = None, None
            if kind is not None:
                start_breach(kind, at, value)
            continue

        if pending is not None and kind == pending.kind:
            pending = replace(
                pending,
                last_at=at,
                peak_value=_more_extreme(kind, pending.peak_value, value),
                reading_count=pending.reading_count + 1,
            )
            if (at - pending.since).total_seconds() >= rule.min_duration:
                current = Episode(
                    kind, pending.since, None, pending.peak_value, pending.reading_count
                )
                result.episodes.append(current)
                current_index = len(result.episodes) - 1
                result.events.append(AlertEvent(OPEN, kind, at, pending.since))
                pending = None
            continue

        # Nothing open and no pending breach of this kind: a short breach is forgotten.
        pending = None
        if kind is not None:
            start_breach(kind, at, value)

    result.state = EvaluatorState(open=current, pending=pending, last_timestamp=last)
    return result


def evaluate_silence(
    rule: ThresholdRule,
    state: EvaluatorState,
    *,
    now: datetime,
    watched_since: datetime | None = None,
) -> Evaluation:
    """Open the silent episode going on at ``now``, if any (see the module's silence rules).

    ``episodes`` lists what changed: the high/low episode closed at the last reading, then the
    silent one opened; empty when nothing changed.
    """
    result = Evaluation(state=state)
    current = state.open
    if rule.max_silence is None or (current is not None and current.kind == SILENT):
        return result
    reference = state.last_timestamp or watched_since
    if reference is None or not is_silent_gap(rule, reference, now):
        return result
    if current is not None:
        assert state.last_timestamp is not None  # an open episode has readings
        closed = replace(current, closed_at=state.last_timestamp)
        result.episodes.append(closed)
        result.events.append(AlertEvent(CLOSE, closed.kind, state.last_timestamp, closed.opened_at))
    began = silence_starts(rule, reference)
    silent = Episode(SILENT, began, None, None, 0)
    result.episodes.append(silent)
    result.events.append(AlertEvent(OPEN, SILENT, began, began))
    result.state = EvaluatorState(open=silent, pending=None, last_timestamp=state.last_timestamp)
    return result
