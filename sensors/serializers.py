from __future__ import annotations

import math
import re

from django.contrib.auth.models import User
from rest_framework import serializers

from sensors.models import (
    MAX_MIN_DURATION_S,
    MAX_SILENCE_S,
    SENSOR_CODE_PATTERN,
    Alert,
    Reading,
    Sensor,
)
from targets_site.serializers import StrictCharField, StrictFieldsMixin


class FiniteFloatField(serializers.FloatField):
    """A JSON number only (no strings, no booleans), finite."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("Must be a finite number (no NaN or Infinity).")
        return value


class SensorSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    code = StrictCharField(max_length=50)
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    unit = StrictCharField(max_length=20, required=False, allow_blank=True)
    low_threshold = FiniteFloatField(required=False, allow_null=True)
    high_threshold = FiniteFloatField(required=False, allow_null=True)
    hysteresis = FiniteFloatField(required=False, min_value=0.0, max_value=1e12)
    min_duration = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_MIN_DURATION_S,
        help_text="Seconds a breach must last before an alert opens (0: at once).",
    )
    max_silence = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_SILENCE_S,
        help_text="Seconds without a reading after which a 'silent' alert opens (null: never).",
    )

    class Meta:
        model = Sensor
        fields = [
            "code",
            "name",
            "unit",
            "low_threshold",
            "high_threshold",
            "hysteresis",
            "min_duration",
            "max_silence",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_code(self, value: str) -> str:
        if not re.match(SENSOR_CODE_PATTERN, value):
            raise serializers.ValidationError("Use 1-50 letters, digits, '_', '.' or '-'.")
        clash = Sensor.objects.filter(code=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("A sensor with this code already exists.")
        return value

    def validate(self, attrs: dict) -> dict:
        def current(name: str):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name) if self.instance is not None else None

        low, high = current("low_threshold"), current("high_threshold")
        if low is not None and high is not None and low >= high:
            raise serializers.ValidationError({"low_threshold": ["Must be below high_threshold."]})
        return attrs


class ReadingSerializer(serializers.ModelSerializer):
    sensor = serializers.CharField(source="sensor.code", read_only=True)

    class Meta:
        model = Reading
        fields = ["sensor", "timestamp", "value"]
        read_only_fields = fields


class IngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class BreachSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Reading
        fields = ["timestamp", "value", "kind"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    sensor = serializers.SlugRelatedField[Sensor](slug_field="code", read_only=True)
    acknowledged_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "sensor",
            "kind",
            "opened_at",
            "closed_at",
            "is_open",
            "peak_value",
            "reading_count",
            "acknowledged_by",
            "acknowledged_at",
        ]
        read_only_fields = fields


class StatBucketSerializer(serializers.Serializer):
    """One stats bucket, for the API schema: the rows themselves are written by
    ``StatTable.as_json`` from whole columns (a year of hourly buckets is 8,760 rows)."""

    start = serializers.DateTimeField()
    count = serializers.IntegerField()
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)
