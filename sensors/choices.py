from __future__ import annotations

from django.db import models


class AlertKind(models.TextChoices):
    HIGH = "high", "High"
    LOW = "low", "Low"
    SILENT = "silent", "Silent (no readings)"
