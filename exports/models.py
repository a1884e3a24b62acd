from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from exports.choices import DATASET_NAMES, Every, Format, Status, StorageKind

_DATASET_CHOICES = [(name, name) for name in DATASET_NAMES]


class ExportSchedule(models.Model):
    """An export that ``run_exports`` requests every hour, day or week.

    Each run covers ``[last_until, now)`` (its ``since``/``until`` filters) and moves
    ``last_until`` to its own ``until``, so consecutive files neither overlap nor leave gaps.
    An empty ``last_until`` means the first run starts from the beginning of the data.
    """

    name = models.CharField(max_length=100, unique=True)
    dataset = models.CharField(max_length=20, choices=_DATASET_CHOICES)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.CSV)
    gzip = models.BooleanField(default=False)
    # Only sensor / mode: the time window is the schedule's own.
    filters = models.JSONField(default=dict, blank=True)
    storage = models.CharField(max_length=8, choices=StorageKind.choices, default=StorageKind.LOCAL)
    every = models.CharField(max_length=8, choices=Every.choices, default=Every.DAY)
    is_active = models.BooleanField(default=True)
    # The next run is due at this time; each run moves it on by whole periods (no drift).
    next_run_at = models.DateTimeField()
    last_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="export_schedules",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["is_active", "next_run_at"], name="export_schedule_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.dataset}.{self.format} every {self.every})"


class Export(models.Model):
    """One export run: what was asked for, where the file went, and how it ended."""

    dataset = models.CharField(max_length=20, choices=_DATASET_CHOICES)
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
    # A running export's worker renews this lease while it works; once it has expired, the
    # worker is taken to be dead and the export is failed (see services.leases).
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    schedule = models.ForeignKey(
        ExportSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
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
