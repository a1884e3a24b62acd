from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from sensors.choices import AlertKind
from sensors.thresholds import ThresholdRule

# Codes appear in URLs, CSV headers and the comma-separated ?sensors= list.
SENSOR_CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,50}$"
MAX_MIN_DURATION_S = 30 * 24 * 3600
MAX_SILENCE_S = 365 * 24 * 3600


class Sensor(models.Model):
    code = models.CharField(
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(SENSOR_CODE_PATTERN, "Use 1-50 letters, digits, '_', '.' or '-'.")
        ],
    )
    name = models.CharField(max_length=200, blank=True, default="")
    unit = models.CharField(max_length=20, blank=True, default="")
    low_threshold = models.FloatField(null=True, blank=True)
    high_threshold = models.FloatField(null=True, blank=True)
    hysteresis = models.FloatField(default=0.0, validators=[MinValueValidator(0.0)])
    min_duration = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_MIN_DURATION_S)],
        help_text="Seconds a breach must last before an alert opens (0: at once).",
    )
    max_silence = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SILENCE_S)],
        help_text="Seconds without a reading after which the sensor is alerted as silent "
        "(empty: never).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(hysteresis__gte=0), name="sensor_hysteresis_gte_0"),
            models.CheckConstraint(
                condition=Q(low_threshold__isnull=True)
                | Q(high_threshold__isnull=True)
                | Q(low_threshold__lt=F("high_threshold")),
                name="sensor_low_below_high",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def rule(self) -> ThresholdRule:
        return ThresholdRule(
            low=self.low_threshold,
            high=self.high_threshold,
            hysteresis=self.hysteresis,
            min_duration=float(self.min_duration),
            max_silence=float(self.max_silence) if self.max_silence is not None else None,
        )

    def breach_q(self, prefix: str = "") -> Q | None:
        """The breach condition as a filter (None when the sensor has no threshold)."""
        condition = Q()
        if self.high_threshold is not None:
            condition |= Q(**{f"{prefix}value__gt": self.high_threshold})
        if self.low_threshold is not None:
            condition |= Q(**{f"{prefix}value__lt": self.low_threshold})
        return condition or None


class Reading(models.Model):
    # No database-level foreign key: PostgreSQL checks one per inserted row (a deferred trigger
    # each), which doubled the cost of a bulk COPY. Integrity is kept by the services instead:
    # every write of readings takes FOR KEY SHARE on its sensors before committing, and
    # sensor_delete takes FOR UPDATE on the sensor before deleting its readings, so neither can
    # interleave with the other (see docs/sensors.md, "Storage notes").
    # No index of its own either: the unique (sensor, timestamp) index starts with the sensor and
    # serves every lookup by sensor; a second index cost ~12% of the database's work per COPY.
    sensor = models.ForeignKey(
        Sensor,
        on_delete=models.CASCADE,
        related_name="readings",
        db_constraint=False,
        db_index=False,
    )
    timestamp = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        # The unique (sensor, timestamp) index is also the one every read uses: a time range of
        # one sensor is a contiguous index range, so no separate index on timestamp is kept
        # (each extra index on millions of rows slows every ingest).
        constraints = [
            models.UniqueConstraint(fields=["sensor", "timestamp"], name="reading_sensor_time_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.sensor.code} at {self.timestamp:%Y-%m-%d %H:%M:%S} = {self.value:g}"


class ReadingRollup(models.Model):
    """One sensor's readings summarised per minute or per hour (``level`` in seconds).

    Written only by check_thresholds (sensors/services/rollups.py), which recomputes every whole
    hour a batch of readings touched, late ones included; ingest stays a single COPY. Pruning
    raw readings never touches these rows, so stats and plots of old ranges survive it.
    """

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveIntegerField()
    bucket_start = models.DateTimeField()
    count = models.PositiveIntegerField()
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    first = models.FloatField()
    last = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sensor", "level", "bucket_start"], name="rollup_sensor_level_start_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sensor_id} per {self.level}s from {self.bucket_start:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=6, choices=AlertKind.choices)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # None for a silent alert: no reading, no peak.
    peak_value = models.FloatField(null=True, blank=True)
    reading_count = models.PositiveIntegerField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="acknowledged_alerts",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["sensor", "opened_at"], name="alert_sensor_opened_idx")]
        constraints = [
            # The database itself refuses a second alert for one episode, and two open alerts.
            models.UniqueConstraint(
                fields=["sensor", "kind", "opened_at"], name="alert_one_per_episode"
            ),
            models.UniqueConstraint(
                fields=["sensor"], condition=Q(closed_at__isnull=True), name="alert_one_open"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="alert_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sensor.code} {self.kind} alert from {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ThresholdCursor(models.Model):
    """Where check_thresholds stopped for a sensor, and the breach pending at that point."""

    sensor = models.OneToOneField(
        Sensor, on_delete=models.CASCADE, primary_key=True, related_name="threshold_cursor"
    )
    evaluated_until = models.DateTimeField(null=True, blank=True)
    pending_kind = models.CharField(max_length=6, choices=AlertKind.choices, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    pending_last_at = models.DateTimeField(null=True, blank=True)
    pending_peak = models.FloatField(null=True, blank=True)
    pending_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.sensor.code} evaluated until {self.evaluated_until}"


class ReadingMark(models.Model):
    """Written in the same transaction as every batch of readings: 'sensor X got readings from T'.

    check_thresholds consumes these marks. A mark at or before the sensor's cursor means late
    readings arrived, so the evaluation rewinds; a mark commits atomically with its readings, so a
    batch still in flight while check_thresholds runs is picked up by the next run, never lost.
    """

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="+")
    min_timestamp = models.DateTimeField()
    max_timestamp = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["sensor", "id"], name="mark_sensor_idx")]

    def __str__(self) -> str:
        return f"{self.sensor.code} {self.min_timestamp}..{self.max_timestamp}"
