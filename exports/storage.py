"""Where export files go: the local disk or an S3-compatible bucket, through django-storages."""

from __future__ import annotations

import functools
from pathlib import Path

from boto3.s3.transfer import TransferConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from exports.choices import StorageKind

MB = 1024 * 1024

# Exports are uploaded as finished files, by path (see ExportS3Storage._save): 16 MB parts keep a
# 100 GB export under S3's 10,000-part limit, 4 threads use the bandwidth, and parts are read
# from disk as they are sent, so memory does not grow with the file.
EXPORTS_TRANSFER_CONFIG = TransferConfig(
    multipart_threshold=16 * MB,
    multipart_chunksize=16 * MB,
    max_concurrency=4,
    use_threads=True,
)

# Signed download URLs live this long (seconds).
DOWNLOAD_URL_EXPIRE_S = 300


class ExportS3Storage(S3Storage):
    """S3Storage that stores ``.gz`` exports as the gzip files they are.

    django-storages would label ``x.csv.gz`` ``Content-Encoding: gzip``, and every HTTP client
    would then unpack the download on the fly: the user would get bytes whose sha256 is not the
    one recorded.
    """

    def _save(self, name, content):
        """A finished file on disk is uploaded by path: s3transfer then reads each part from
        disk as it sends it. Given an open file instead, it would buffer up to
        ``max_in_memory_upload_chunks`` whole parts in memory."""
        temporary_file_path = getattr(content, "temporary_file_path", None)
        if temporary_file_path is None:
            return super()._save(name, content)
        cleaned_name = clean_name(name)
        name = self._normalize_name(cleaned_name)
        params = self._get_write_parameters(name, content)
        self.bucket.Object(name).upload_file(
            temporary_file_path(), ExtraArgs=params, Config=self.transfer_config
        )
        return cleaned_name

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        if name.endswith(".gz"):
            params.pop("ContentEncoding", None)
            params["ContentType"] = "application/gzip"
        return params


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
def _s3_storage(options: tuple[tuple[str, object], ...]) -> ExportS3Storage:
    return ExportS3Storage(**dict(options), transfer_config=EXPORTS_TRANSFER_CONFIG)


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


def local_partial_dir(storage: Storage) -> Path | None:
    """A directory beside the final files for unfinished ones, so finishing is a rename.

    None for storages that are not the local disk (the system temp dir is used then).
    """
    if not isinstance(storage, FileSystemStorage):
        return None
    path = Path(storage.location) / ".partial"
    path.mkdir(parents=True, exist_ok=True)
    return path
