"""A bucket that is not there yet, against a real S3 server (SeaweedFS): created by
``manage.py create_bucket``, and named plainly by ``/readyz`` and a failed export until it is."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from exports import services
from tests.exports.factories import make_items
from tests.s3_server import WRITER_ACCESS_KEY, WRITER_SECRET_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.s3]


@pytest.fixture
def missing_bucket(s3_server, settings) -> str:
    """EXPORTS_S3_* pointed at the SeaweedFS server, with a bucket nobody has made, and
    credentials that may write objects but not create buckets (as most deployed ones)."""
    bucket = f"exports-{uuid.uuid4().hex[:12]}"
    settings.EXPORTS_S3_OPTIONS = {
        **settings.EXPORTS_S3_OPTIONS,
        "bucket_name": bucket,
        "endpoint_url": s3_server.endpoint_url,
        "access_key": WRITER_ACCESS_KEY,
        "secret_key": WRITER_SECRET_KEY,
        "region_name": s3_server.region,
    }
    return bucket


@pytest.fixture
def as_admin(s3_server, settings) -> None:
    """The S3 administrator's credentials, who may create buckets."""
    settings.EXPORTS_S3_OPTIONS = {
        **settings.EXPORTS_S3_OPTIONS,
        "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key,
    }


def plainly_missing(bucket: str) -> str:
    return f"S3 bucket '{bucket}' does not exist; create it with manage.py create_bucket"


def create_bucket() -> str:
    out = StringIO()
    call_command("create_bucket", stdout=out)
    return out.getvalue()


def test_create_bucket_makes_the_bucket_once_and_then_says_it_exists(
    s3_server, missing_bucket, as_admin
):
    assert create_bucket().strip() == f"S3 bucket '{missing_bucket}' created."
    assert missing_bucket in {b["Name"] for b in s3_server.client().list_buckets()["Buckets"]}
    assert create_bucket().strip() == f"S3 bucket '{missing_bucket}' already exists."


def test_create_bucket_names_the_missing_settings(settings):
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": None}
    with pytest.raises(CommandError, match="EXPORTS_S3_BUCKET"):
        call_command("create_bucket", stdout=StringIO())


def test_an_export_to_a_missing_bucket_fails_naming_it_and_succeeds_once_created(
    s3_server, missing_bucket
):
    make_items(2)
    # Without the fix this was a bare "S3UploadFailedError: ... (AccessDenied) ...".
    failed = services.export_run(dataset="items", fmt="csv", storage="s3")
    assert failed.status == "failed"
    assert failed.error == plainly_missing(missing_bucket)

    s3_server.client().create_bucket(Bucket=missing_bucket)
    export = services.export_run(dataset="items", fmt="csv", storage="s3")
    assert export.status == "succeeded", export.error


def test_readyz_names_a_missing_bucket_and_is_ready_once_it_is_created(
    client, missing_bucket, as_admin
):
    s3 = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": settings.EXPORTS_S3_OPTIONS}
    with override_settings(STORAGES={**settings.STORAGES, "exports": s3}):
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["checks"]["exports_storage"] == "bucket_missing"
        assert body["reasons"] == {"exports_storage": plainly_missing(missing_bucket)}

        create_bucket()
        response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert "reasons" not in response.json()
