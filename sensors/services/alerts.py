"""Alert state changes: the only code that opens, closes, updates or acknowledges alerts.

``alerts_evaluate`` is what ``manage.py check_thresholds`` runs. Per sensor, inside one
transaction holding the sensor's row lock (``SELECT ... FOR NO KEY UPDATE``; SQLite serialises
writers anyway), it consumes the ReadingMarks written with every batch of readings:

- marks only after the cursor: evaluate the new readings from the carried state (the open alert
  and any pending breach), exactly once;
- a mark at or before the cursor (late readings): rewind to the last point where the sensor was
  certainly idle before the earliest late reading, evaluate again from there and reconcile the
  alerts of that stretch with the result (alerts are matched by kind and overlapping time, so an
  episode keeps its alert, its id and its acknowledgement; an episode that no longer exists is
  withdrawn).

Either way, running it again with no new marks changes nothing, and two concurrent runs serialise
on the row lock, the second finding no marks left.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sensors.models import Alert, Reading, ReadingMark, Sensor, ThresholdCursor
from sensors.services.notices import alert_notify, alert_remind
from sensors.thresholds import (
    Episode,
    EvaluatorState,
    Pending,
    evaluate,
    evaluate_silence,
    silence_contradicted,
)
from targets_site.errors import Conflict

logger = logging.getLogger("targets.sensors")
_CHUNK = 20_000


@dataclass
class EvaluationSummary:
    sensors: int = 0
    readings: int = 0
    opened: int = 0
    closed: int = 0
    updated: int = 0
    withdrawn: int = 0
    notifications: int = 0
    rewound: list[str] = field(default_factory=list)

    def add(self, other: EvaluationSummary) -> None:
        self.sensors += other.sensors
        self.readings += other.readings
        self.opened += other.opened
        self.closed += other.closed
        self.updated += other.updated
        self.withdrawn += other.withdrawn
        self.notifications += other.notifications
        self.rewound.extend(other.rewound)


def alerts_evaluate(*, sensor_codes: Iterable[str] | None = None) -> EvaluationSummary:
    """Evaluate every active sensor's new readings (or only ``sensor_codes``)."""
    sensors = Sensor.objects.filter(is_active=True).order_by("id")
    if sensor_codes is not None:
        sensors = sensors.filter(code__in=list(sensor_codes))
    summary = EvaluationSummary()
    for sensor_id in sensors.values_list("id", flat=True):
        summary.add(alert_evaluate_sensor(sensor_id=sensor_id))
    return summary


def alert_evaluate_sensor(*, sensor_id: int) -> EvaluationSummary:
    summary = EvaluationSummary()
    with transaction.atomic():
        # The row lock makes concurrent runs (cron on several machines) take turns per sensor.
        # NO KEY UPDATE: it does not wait for ingests, which hold KEY SHARE on their sensors.
        sensor = Sensor.objects.select_for_update(no_key=True).get(pk=sensor_id)
        spans = list(
            ReadingMark.objects.filter(sensor=sensor).values_list(
                "id", "min_timestamp", "max_timestamp"
            )
        )
        if spans:
            # The same marks keep the per-minute and per-hour rollups current, late ones too.
            # Imported here: rollups load numpy and pandas, and every command imports this
            # package at start-up (the admin does), most of them with no rollup to compute.
            from sensors.services.rollups import rollups_refresh

            rollups_refresh(sensor_id=sensor.pk, spans=[(low, high) for _, low, high in spans])
            marks = [(mark_id, low) for mark_id, low, _ in spans]
            _evaluate_new_readings(sensor, marks, summary)
        if sensor.max_silence is not None:
            _evaluate_silence(sensor, summary)
        # Under the same lock, so two runs never remind a channel twice for one period.
        open_alert = Alert.objects.filter(sensor=sensor, closed_at__isnull=True).first()
        if open_alert is not None:
            summary.notifications += alert_remind(sensor=sensor, alert=open_alert)
    return summary


def _evaluate_new_readings(
    sensor: Sensor, marks: list[tuple[int, datetime]], summary: EvaluationSummary
) -> None:
    cursor, _ = ThresholdCursor.objects.get_or_create(sensor=sensor)
    summary.sensors = 1
    earliest = min(timestamp for _, timestamp in marks)
    rule = sensor.rule
    open_alert = Alert.objects.filter(sensor=sensor, closed_at__isnull=True).first()
    carried = EvaluatorState(
        open=_episode_of(open_alert) if open_alert else None,
        pending=_pending_of(cursor),
        last_timestamp=cursor.evaluated_until,
    )
    in_order = cursor.evaluated_until is None or earliest > cursor.evaluated_until
    # A reading dated before an open silent alert began (sent late by its device) undoes the
    # silence: evaluate again from before it, like any late reading.
    if in_order and not silence_contradicted(carried, earliest):
        state = carried
        since = cursor.evaluated_until
        stored = [open_alert] if open_alert else []
    else:
        since = _idle_point_before(sensor, earliest)
        state = EvaluatorState(last_timestamp=since)
        stored_qs = Alert.objects.filter(sensor=sensor)
        if since is not None:
            stored_qs = stored_qs.filter(opened_at__gt=since)
        stored = list(stored_qs.order_by("opened_at", "id"))
        summary.rewound.append(sensor.code)

    result = evaluate(rule, _readings_after(sensor, since), state)
    summary.readings = result.evaluated
    _reconcile(sensor, stored, result.episodes, summary)

    final = result.state
    cursor.evaluated_until = final.last_timestamp
    pending = final.pending
    cursor.pending_kind = pending.kind if pending else ""
    cursor.pending_since = pending.since if pending else None
    cursor.pending_last_at = pending.last_at if pending else None
    cursor.pending_peak = pending.peak_value if pending else None
    cursor.pending_count = pending.reading_count if pending else 0
    cursor.save()
    ReadingMark.objects.filter(id__in=[mark_id for mark_id, _ in marks]).delete()


def _evaluate_silence(sensor: Sensor, summary: EvaluationSummary) -> None:
    """Open a silent alert (closing an open high/low one at the last reading) when the sensor
    has not reported for ``max_silence`` seconds (``thresholds.evaluate_silence``)."""
    cursor, _ = ThresholdCursor.objects.get_or_create(sensor=sensor)
    open_alert = Alert.objects.filter(sensor=sensor, closed_at__isnull=True).first()
    state = EvaluatorState(
        open=_episode_of(open_alert) if open_alert else None,
        pending=_pending_of(cursor),
        last_timestamp=cursor.evaluated_until,
    )
    result = evaluate_silence(
        sensor.rule, state, now=timezone.now(), watched_since=sensor.created_at
    )
    if not result.episodes:
        return
    _reconcile(sensor, [open_alert] if open_alert else [], result.episodes, summary)
    cursor.pending_kind = ""
    cursor.pending_since = cursor.pending_last_at = cursor.pending_peak = None
    cursor.pending_count = 0
    cursor.save()


def _episode_of(alert: Alert) -> Episode:
    return Episode(
        alert.kind, alert.opened_at, alert.closed_at, alert.peak_value, alert.reading_count
    )


def _pending_of(cursor: ThresholdCursor) -> Pending | None:
    if not cursor.pending_kind or cursor.pending_since is None:
        return None
    return Pending(
        cursor.pending_kind,
        cursor.pending_since,
        cursor.pending_last_at or cursor.pending_since,
        cursor.pending_peak if cursor.pending_peak is not None else 0.0,
        cursor.pending_count,
    )


def _readings_after(sensor: Sensor, since: datetime | None) -> Iterator[tuple[datetime, float]]:
    readings = Reading.objects.filter(sensor=sensor)
    if since is not None:
        readings = readings.filter(timestamp__gt=since)
    yield from (
        readings.order_by("timestamp").values_list("timestamp", "value").iterator(chunk_size=_CHUNK)
    )


def _covering_alert(sensor: Sensor, moment: datetime) -> Alert | None:
    ends_after = Q(closed_at__gt=moment)
    if sensor.max_silence is not None:
        # A silence closes an alert *at* its last reading, where nothing was idle: a late
        # reading in the gap can continue that alert. Such a reading is covered too.
        ends_after |= Q(closed_at=moment)
    return (
        Alert.objects.filter(sensor=sensor, opened_at__lte=moment)
        .filter(Q(closed_at__isnull=True) | ends_after)
        .order_by("opened_at")
        .first()
    )


def _idle_point_before(sensor: Sensor, moment: datetime) -> datetime | None:
    """The last reading before ``moment`` after which nothing was open or pending (None: start).

    That is a reading that does not breach and that no alert spans; evaluating from just after it
    with an idle state reproduces everything that follows.
    """
    breach = sensor.breach_q()
    candidate = moment
    while True:
        alert = _covering_alert(sensor, candidate)
        if alert is not None and alert.opened_at < candidate:
            candidate = alert.opened_at
        before = Reading.objects.filter(sensor=sensor, timestamp__lt=candidate)
        if breach is not None:
            before = before.exclude(breach)
        quiet = before.order_by("-timestamp").values_list("timestamp", flat=True).first()
        if quiet is None:
            return None
        alert = _covering_alert(sensor, quiet)
        if alert is None:
            return quiet
        candidate = alert.opened_at


def _overlaps(alert: Alert, episode: Episode) -> bool:
    if alert.kind != episode.kind:
        return False
    alert_end = alert.closed_at
    episode_end = episode.closed_at
    starts_before_alert_ends = alert_end is None or episode.opened_at <= alert_end
    alert_starts_before_episode_ends = episode_end is None or alert.opened_at <= episode_end
    return starts_before_alert_ends and alert_starts_before_episode_ends


def _reconcile(
    sensor: Sensor, stored: list[Alert], episodes: list[Episode], summary: EvaluationSummary
) -> None:
    """Make the stored alerts of the evaluated stretch match ``episodes``, touching only changes."""
    unmatched = list(stored)
    pairs: list[tuple[Alert | None, Episode]] = []
    for episode in episodes:
        match = next((alert for alert in unmatched if _overlaps(alert, episode)), None)
        if match is not None:
            unmatched.remove(match)
        pairs.append((match, episode))

    if unmatched:
        summary.withdrawn += len(unmatched)
        logger.info("sensor %s: %d alerts withdrawn after late readings", sensor, len(unmatched))
        Alert.objects.filter(id__in=[alert.id for alert in unmatched]).delete()

    # Closing before opening keeps "one open alert per sensor" true after every statement.
    pairs.sort(key=lambda pair: pair[1].closed_at is None)
    for alert, episode in pairs:
        if alert is None:
            alert = Alert.objects.create(
                sensor=sensor,
                kind=episode.kind,
                opened_at=episode.opened_at,
                closed_at=episode.closed_at,
                peak_value=episode.peak_value,
                reading_count=episode.reading_count,
            )
            summary.opened += 1
            summary.notifications += alert_notify(event="alert.opened", sensor=sensor, alert=alert)
            if episode.closed_at is not None:
                summary.closed += 1
                summary.notifications += alert_notify(
                    event="alert.closed", sensor=sensor, alert=alert
                )
            continue
        changes = {
            name: getattr(episode, name)
            for name in ("opened_at", "closed_at", "peak_value", "reading_count")
            if getattr(alert, name) != getattr(episode, name)
        }
        if not changes:
            continue
        event = None
        if alert.closed_at is None and episode.closed_at is not None:
            summary.closed += 1
            event = "alert.closed"
        else:
            summary.updated += 1
            if alert.closed_at is not None and episode.closed_at is None:
                event = "alert.opened"  # late readings reopened it
        for name, value in changes.items():
            setattr(alert, name, value)
        alert.save(update_fields=[*changes, "updated_at"])
        if event is not None:
            summary.notifications += alert_notify(event=event, sensor=sensor, alert=alert)


def alert_acknowledge(*, alert_id: int, user: User) -> Alert:
    """Record that ``user`` has seen the alert; acknowledging twice is a 409."""
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(of=("self",)).select_related("sensor").get(pk=alert_id)
        )
        if alert.acknowledged_at is not None:
            raise Conflict("This alert is already acknowledged.")
        alert.acknowledged_by = user
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
    return alert
