from __future__ import annotations

from typing import TYPE_CHECKING, cast

from exports.choices import StorageKind
from exports.management.base import ExportsCommand
from exports.storage import export_storage, s3_bucket_create

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage


class Command(ExportsCommand):
    help = (
        "Create the S3 bucket that exports go to (EXPORTS_S3_BUCKET, at AWS_S3_ENDPOINT_URL with "
        "the AWS_* credentials). Idempotent: a bucket that exists is left as it is."
    )

    def handle(self, *args, **options) -> None:
        # ImproperlyConfigured names the variables still missing.
        storage = cast("S3Storage", export_storage(StorageKind.S3))
        created = s3_bucket_create(storage)
        state = "created" if created else "already exists"
        self.stdout.write(self.style.SUCCESS(f"S3 bucket '{storage.bucket_name}' {state}."))
