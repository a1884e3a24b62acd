"""Where export files go: the local disk or an S3-compatible bucket, through django-storages.

boto3 is imported only when S3 is used: a local export (and every other command) starts without it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages

from exports.choices import StorageKind

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig

MB = 1024 * 1024

# Signed download URLs live this long (seconds).
DOWNLOAD_URL_EXPIRE_S = 300


def transfer_config() -> TransferConfig:
    """boto3's transfer manager settings for finished export files: 16 MB parts keep a 100 GB
    export under S3's 10,000-part limit, 4 threads use the bandwidth, parts are read from disk as
    they are sent, and a failed multipart upload is aborted by the manager itself."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=16 * MB, multipart_chunksize=16 * MB, max_concurrency=4
    )


def s3_missing_variables() -> list[str]:
    """Environment variables that must be set before exports can go to S3."""
    options = settings.EXPORTS_S3_OPTIONS
    missing = [
        variable
        for option, variable in settings.EXPORTS_S3_REQUIRED.items()
        if not options.get(option)
    ]
    has_access, has_secret = bool(options.get("access_key")), bool(options.get("secret_key"))
    # A key id without its secret (or the reverse) is always a mistake; with neither, boto3 could
    # still find credentials on AWS itself, but never for another S3-compatible endpoint.
    if has_access != has_secret or (not has_access and options.get("endpoint_url")):
        if not has_access:
            missing.append("AWS_ACCESS_KEY_ID")
        if not has_secret:
            missing.append("AWS_SECRET_ACCESS_KEY")
    return missing


def s3_check_configured() -> None:
    missing = s3_missing_variables()
    if missing:
        raise ImproperlyConfigured(
            f"S3 export storage is not configured: set {', '.join(missing)}."
        )


@functools.lru_cache(maxsize=8)
def _s3_storage(options: tuple[tuple[str, object], ...]) -> Storage:
    from storages.backends.s3 import S3Storage

    storage: Storage = S3Storage(**dict(options))
    return storage


def export_storage(kind: str) -> Storage:
    """The storage for ``kind`` (local or s3); ImproperlyConfigured names what is missing."""
    if kind == StorageKind.S3:
        s3_check_configured()
        return _s3_storage(tuple(sorted(settings.EXPORTS_S3_OPTIONS.items())))
    if kind == StorageKind.LOCAL:
        if settings.EXPORTS_STORAGE == StorageKind.LOCAL:
            return storages["exports"]
        return FileSystemStorage(location=settings.EXPORTS_LOCAL_ROOT)
    raise ImproperlyConfigured(f"Unknown export storage {kind!r}; use local or s3.")


def partial_dir() -> Path:
    """Where unfinished export files are written, whatever the storage: beside the local export
    files (so storing a local export is one rename), and one place for ``run_exports`` to remove
    what a dead worker left (``export-<id>-*.part``)."""
    local = export_storage(StorageKind.LOCAL)
    root = Path(local.location) if isinstance(local, FileSystemStorage) else None
    path = (root or Path(settings.EXPORTS_LOCAL_ROOT)) / ".partial"
    path.mkdir(parents=True, exist_ok=True)
    return path
