from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from exports.choices import DATASET_NAMES, Format, Status, StorageKind


class Export(models.Model):
    """One export run: what was asked for, where the file went, and how it ended."""

    dataset = models.CharField(max_length=20, choices=[(name, name) for name in DATASET_NAMES])
    format = models.CharField(max_length=8, choices=Format.choices)
    gzip = models.BooleanField(default=False)
    filters = models.JSONField(default=dict, blank=True)
    storage = models.CharField(max_length=8, choices=StorageKind.choices)
    # sha256 of (dataset, format, gzip, filters, storage): "the same export" for the run lock.
    fingerprint = models.CharField(max_length=64, db_index=True)
    key = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows = models.PositiveBigIntegerField(null=True, blank=True)
    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    error = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exports",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Touched while a run makes progress; a "running" export silent for too long is stale.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # The run lock: the database refuses a second running row of the same export, on
            # SQLite and PostgreSQL alike, and it goes away with the row's status change.
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(status=Status.RUNNING),
                name="export_one_running_per_fingerprint",
            ),
            # Keys are never reused.
            models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="export_key_unique"),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in Status]),
                name="export_status_known",
            ),
        ]
        indexes = [
            # run_exports takes the oldest pending export; prune finds old finished ones.
            models.Index(fields=["status", "id"], name="export_status_idx"),
            models.Index(fields=["created_at"], name="export_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.dataset}.{self.format} {self.status}"

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds() * 1000)

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1] if self.key else ""
