from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework import serializers
from rest_framework.reverse import reverse

from exports.choices import DATASET_NAMES, Status, StorageKind
from exports.models import Export
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
    format = StrictCharField(max_length=8, help_text="csv, json or jsonl.")
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
