from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a client used, with the first response it was answered.

    ``owner`` scopes the key: ``user:<id>`` for an authenticated caller, ``anon:<address>`` for an
    anonymous one, so two clients can never see each other's stored answers. Rows live in the
    database so every machine behind the load balancer shares them; ``purge_idempotency_keys``
    deletes the expired ones.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "in progress"
        COMPLETED = "completed", "completed"

    owner = models.CharField(max_length=80)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    request_path = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices)
    # A request that died mid-way (worker killed) must not block its key for 24 h: once its lock
    # lapses, a retry takes the key over and runs.
    locked_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
