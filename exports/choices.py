from __future__ import annotations

from django.db import models


class Format(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON (one array)"
    JSONL = "jsonl", "JSON Lines"
    PARQUET = "parquet", "Parquet"


# Formats that can be gzipped (Parquet compresses its own column chunks).
TEXT_FORMATS = (Format.CSV, Format.JSON, Format.JSONL)


class Every(models.TextChoices):
    HOUR = "hour", "Every hour"
    DAY = "day", "Every day"
    WEEK = "week", "Every week"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class StorageKind(models.TextChoices):
    LOCAL = "local", "Local disk"
    S3 = "s3", "S3"


# Every dataset the SPEC names; datasets.py says which of them this installation can export.
DATASET_NAMES = ("items", "sensors", "readings", "alerts", "scores")
FILTER_NAMES = ("since", "until", "sensor", "mode")
