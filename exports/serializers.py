from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework import serializers
from rest_framework.reverse import reverse

from exports.choices import DATASET_NAMES, Every, Format, Status, StorageKind
from exports.models import Export, ExportSchedule
from targets_site.serializers import StrictCharField, StrictFieldsMixin


class ExportFiltersSerializer(StrictFieldsMixin, serializers.Serializer):
    # Times stay text here: the service parses them with the same rules as the command line.
    since = StrictCharField(max_length=64, required=False)
    until = StrictCharField(max_length=64, required=False)
    sensor = StrictCharField(max_length=50, required=False)
    mode = StrictCharField(max_length=16, required=False)


class ExportRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    """What POST /api/v1/exports/ takes; datasets and formats are checked by the service."""

    dataset = StrictCharField(max_length=20, help_text=f"One of {', '.join(DATASET_NAMES)}.")
    format = StrictCharField(max_length=8, help_text="csv, json, jsonl or parquet.")
    gzip = serializers.BooleanField(default=False)
    filters = ExportFiltersSerializer(required=False)
    storage = serializers.ChoiceField(choices=StorageKind.choices, required=False)


class ExportSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "dataset",
            "format",
            "gzip",
            "filters",
            "storage",
            "status",
            "key",
            "rows",
            "bytes",
            "sha256",
            "error",
            "requested_by",
            "schedule",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, export: Export) -> str | None:
        if export.status != Status.SUCCEEDED:
            return None
        return reverse(
            "export-download", kwargs={"pk": export.pk}, request=self.context.get("request")
        )


class ExportScheduleFiltersSerializer(StrictFieldsMixin, serializers.Serializer):
    # No since/until: each run's window is the schedule's own.
    sensor = StrictCharField(max_length=50, required=False)
    mode = StrictCharField(max_length=16, required=False)


class ExportScheduleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A schedule; export settings are checked by the service as a request's would be."""

    dataset = serializers.ChoiceField(choices=[(name, name) for name in DATASET_NAMES])
    format = serializers.ChoiceField(choices=Format.choices, default=Format.CSV)
    every = serializers.ChoiceField(choices=Every.choices, default=Every.DAY)
    storage = serializers.ChoiceField(choices=StorageKind.choices, required=False)
    filters = ExportScheduleFiltersSerializer(required=False)
    next_run_at = serializers.DateTimeField(
        required=False, help_text="When the first run is due (default: now)."
    )
    last_until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Where the first run's window starts (default: the beginning of the data).",
    )
    created_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)

    class Meta:
        model = ExportSchedule
        fields = [
            "id",
            "name",
            "dataset",
            "format",
            "gzip",
            "filters",
            "storage",
            "every",
            "is_active",
            "next_run_at",
            "last_until",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
