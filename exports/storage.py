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
from targets_site.errors import Unavailable

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from storages.backends.s3 import S3Storage

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


# What S3 servers answer to a HEAD or PUT on a bucket that is not there (AWS, MinIO, SeaweedFS).
_NO_BUCKET_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})


class S3BucketMissing(Unavailable):
    """The export bucket does not exist: said plainly, with the command that creates it."""

    default_code = "s3_bucket_missing"

    def __init__(self, bucket: str) -> None:
        super().__init__(
            f"S3 bucket '{bucket}' does not exist; create it with manage.py create_bucket"
        )
        self.bucket = bucket


def s3_bucket_check(storage: S3Storage) -> None:
    """Raise S3BucketMissing when the storage's bucket is not there; other S3 errors pass on.

    HEAD on the bucket, because ``exists()`` on an object answers False for a missing bucket too.
    """
    from botocore.exceptions import ClientError

    try:
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in _NO_BUCKET_CODES:
            raise S3BucketMissing(storage.bucket_name) from exc
        raise


def s3_bucket_create(storage: S3Storage) -> bool:
    """Create the storage's bucket unless it exists; True when it was created (idempotent)."""
    from botocore.exceptions import ClientError

    try:
        s3_bucket_check(storage)
        return False
    except S3BucketMissing:
        pass
    client = storage.connection.meta.client
    region = client.meta.region_name
    arguments: dict[str, object] = {"Bucket": storage.bucket_name}
    # AWS refuses a LocationConstraint of us-east-1 and requires one everywhere else.
    if region and region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**arguments)
    except ClientError as exc:
        # Made by someone else between the check and the create: the bucket is there, as asked.
        if exc.response.get("Error", {}).get("Code") in {"BucketAlreadyOwnedByYou"}:
            return False
        raise
    return True
