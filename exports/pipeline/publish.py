"""Publishers: a finished local file to its final key, one per storage kind.

- local: ``FileSystemStorage.save`` of the file by path is one rename on the same disk;
- S3: boto3's transfer manager (``upload_file``) reads the parts from disk, uploads them in
  parallel and aborts a failed multipart upload itself, so a failure leaves no object.

Neither overwrites: ``exists`` is asked before the upload (S3 has no portable "create only").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.core.files import File
from django.core.files.storage import Storage

from exports.choices import StorageKind
from exports.storage import export_storage, s3_bucket_check, transfer_config

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "gz": "application/gzip",
}


def content_type(key: str) -> str:
    return _CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


class Publisher(Protocol):
    storage: Storage

    def exists(self, key: str) -> bool: ...

    def publish(self, path: Path, key: str) -> None: ...

    def remove(self, key: str) -> None: ...


if TYPE_CHECKING:
    _BinaryFile = File[bytes]
else:
    _BinaryFile = File  # Django's File is generic only in its stubs


class _FinishedFile(_BinaryFile):
    """A finished file on disk: FileSystemStorage moves it into place (one rename)."""

    def temporary_file_path(self) -> str:
        if self.file is None:  # File allows none; this one is always built on an open file
            raise ValueError("The finished file is gone.")
        return str(self.file.name)


class LocalPublisher:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def exists(self, key: str) -> bool:
        return self.storage.exists(key)

    def publish(self, path: Path, key: str) -> None:
        with open(path, "rb") as finished:
            saved = self.storage.save(key, _FinishedFile(finished, name=key))
        if saved != key:  # the storage picked another name: someone took the key meanwhile
            self.storage.delete(saved)
            raise FileExistsError(f"{key} exists already; keys are never reused.")

    def remove(self, key: str) -> None:
        if self.storage.exists(key):
            self.storage.delete(key)


class S3Publisher(LocalPublisher):
    storage: S3Storage  # what export_storage gives for StorageKind.S3

    def publish(self, path: Path, key: str) -> None:
        # The stored bytes are the file's: a .gz export is application/gzip *without*
        # Content-Encoding, or HTTP clients would unpack the download and its sha256 would
        # not match the record.
        extra = {**self.storage.get_object_parameters(key), "ContentType": content_type(key)}
        extra.pop("ContentEncoding", None)
        try:
            self.storage.bucket.Object(key).upload_file(
                str(path), ExtraArgs=extra, Config=transfer_config()
            )
        except Exception:
            # boto3 reports a missing bucket as a bare AccessDenied or NoSuchBucket inside an
            # upload error: name it plainly, with the command that creates it.
            s3_bucket_check(self.storage)
            raise


def publisher_for(kind: str) -> Publisher:
    storage = export_storage(kind)
    return S3Publisher(storage) if kind == StorageKind.S3 else LocalPublisher(storage)
