from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiScope(models.TextChoices):
    ITEMS_WRITE = "items:write", "write items"
    READINGS_WRITE = "readings:write", "write readings"
    SCORES_WRITE = "scores:write", "submit scores"
    EXPORTS_READ = "exports:read", "read exports"
    EXPORTS_WRITE = "exports:write", "request exports"


class ApiKey(models.Model):
    """A named, scoped, expiring key for a device or an integration; only its hash is stored."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    # Sensor codes that readings:write is limited to; empty means every sensor the owner may write.
    sensors = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_from"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="apikey_owner_idx")]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name} ({self.owner.get_username()})"

    def is_live(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)

    def allows_sensor(self, code: str) -> bool:
        return not self.sensors or code in self.sensors
