"""The demo's device: a user that may post readings, and a key limited to sensors A and B."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from accounts.models import ApiKey, ApiScope
from accounts.services import apikey_create
from targets_site.demo import per_database_file, write_secret

DEVICE_USERNAME = "demo-device"
DEVICE_KEY_NAME = "demo device (sensors A and B)"
DEVICE_KEY_FILE = settings.VAR_DIR / "demo-device-key.txt"


def device_key_file() -> Path:
    return per_database_file(DEVICE_KEY_FILE)


def demo_seed(*, stdout: Any) -> None:
    """Idempotent: the key is issued (and printed) once; later runs say where it was kept."""
    device, created = get_user_model().objects.get_or_create(username=DEVICE_USERNAME)
    if created:
        device.set_unusable_password()  # it signs in with its key only
        device.save(update_fields=["password"])
        device.user_permissions.add(
            Permission.objects.get(content_type__app_label="sensors", codename="add_reading")
        )
    live = ApiKey.objects.filter(
        owner=device, name=DEVICE_KEY_NAME, revoked_at__isnull=True
    ).first()
    key_file = device_key_file()
    if live is not None:
        stdout.write(f"Device key: {live.prefix}… for sensors A and B (in {key_file}).")
        return
    issued = apikey_create(
        owner=device, name=DEVICE_KEY_NAME, scopes=[ApiScope.READINGS_WRITE], sensors=["A", "B"]
    )
    write_secret(key_file, issued.key)
    stdout.write(f"Device key for sensors A and B (shown once, kept in {key_file}): {issued.key}")
