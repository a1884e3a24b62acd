"""Exports to a real S3 server (SeaweedFS, started by the session fixture)."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
import requests

from exports import formats, services
from exports.storage import EXPORTS_TRANSFER_CONFIG
from tests.exports.factories import make_items, make_readings
from tests.helpers import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.s3]


def test_an_export_to_s3_stores_one_object_whose_hash_is_the_recorded_one(s3_server, s3_bucket):
    make_readings("A", 100)
    export = services.export_run(dataset="readings", fmt="csv", compress=True, storage="s3")

    assert export.status == "succeeded", export.error
    assert s3_server.object_keys(s3_bucket) == [export.key]
    obj = s3_server.client().get_object(Bucket=s3_bucket, Key=export.key)
    body = obj["Body"].read()
    assert hashlib.sha256(body).hexdigest() == export.sha256
    assert len(body) == export.bytes
    # Stored as the gzip file it is: no Content-Encoding for clients to undo on download.
    assert obj["ContentType"] == "application/gzip"
    assert "ContentEncoding" not in obj
    assert gzip.decompress(body).decode().count("\n") == 101


def test_two_runs_never_share_a_key_in_the_bucket(s3_server, s3_bucket):
    make_items(1)
    first = services.export_run(dataset="items", fmt="json", storage="s3")
    second = services.export_run(dataset="items", fmt="json", storage="s3")
    assert first.key != second.key
    assert s3_server.object_keys(s3_bucket) == sorted([first.key, second.key])


def test_an_exception_half_way_leaves_no_object_in_the_bucket(s3_server, s3_bucket, monkeypatch):
    make_readings("A", 50)
    real = formats.json_value
    calls = {"n": 0}

    def failing(value):
        calls["n"] += 1
        if calls["n"] > 60:
            raise RuntimeError("boom half-way")
        return real(value)

    monkeypatch.setattr(formats, "json_value", failing)
    export = services.export_run(dataset="readings", fmt="json", storage="s3")
    assert export.status == "failed"
    assert export.error == "RuntimeError: boom half-way"
    assert s3_server.object_keys(s3_bucket) == []


def test_a_multipart_upload_that_fails_half_way_leaves_no_object(s3_server, s3_bucket, monkeypatch):
    """The failure S3File would turn into a complete object: here the upload is aborted."""
    monkeypatch.setattr(EXPORTS_TRANSFER_CONFIG, "multipart_threshold", 5 * 1024 * 1024)
    monkeypatch.setattr(EXPORTS_TRANSFER_CONFIG, "multipart_chunksize", 5 * 1024 * 1024)
    # A 12 MB export: three parts; reading the file fails after the first part went up.
    big = [("A" * 60, f"2026-01-01T00:00:{i % 60:02d}Z", float(i)) for i in range(150_000)]
    monkeypatch.setattr(
        "exports.datasets.Dataset.rows", lambda self, filters: iter(big), raising=True
    )
    from s3transfer.utils import ReadFileChunk

    real_read = ReadFileChunk.read

    def read(self, amount=None):
        if self._start_byte >= 5 * 1024 * 1024:  # the second part on: the disk fails
            raise OSError("disk read error during upload")
        return real_read(self, amount)

    monkeypatch.setattr(ReadFileChunk, "read", read)
    export = services.export_run(dataset="readings", fmt="jsonl", storage="s3")
    assert export.status == "failed", export.bytes
    assert "disk read error" in export.error
    assert s3_server.object_keys(s3_bucket) == []
    uploads = s3_server.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert uploads == []


def test_an_unreachable_s3_endpoint_fails_the_export_with_the_reason(settings, local_exports):
    make_items(1)
    settings.EXPORTS_S3_OPTIONS = {
        **settings.EXPORTS_S3_OPTIONS,
        "bucket_name": "exports",
        "endpoint_url": "http://127.0.0.1:9",  # discard port: nothing listens
        "access_key": "x",
        "secret_key": "y",
    }
    export = services.export_run(dataset="items", fmt="csv", storage="s3")
    assert export.status == "failed"
    assert "127.0.0.1:9" in export.error or "Connect" in export.error
    assert [p for p in local_exports.rglob("*") if p.is_file()] == []


def test_a_failure_after_the_upload_deletes_the_object(s3_server, s3_bucket, monkeypatch):
    make_items(2)
    from django.db.models import QuerySet

    real_update = QuerySet.update

    def update(self, **kwargs):
        if kwargs.get("status") == "succeeded":
            raise RuntimeError("lost the database after the upload")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    export = services.export_run(dataset="items", fmt="csv", storage="s3")
    assert export.status == "failed"
    assert s3_server.object_keys(s3_bucket) == []


def test_download_of_an_s3_export_redirects_to_a_signed_url_that_serves_the_file(
    s3_server, s3_bucket, staff_client
):
    make_items(3)
    export = services.export_run(dataset="items", fmt="json", storage="s3")
    response = staff_client.get(f"/api/v1/exports/{export.pk}/download/")
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(f"{s3_server.endpoint_url}/{s3_bucket}/exports/items/")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == export.sha256
    assert len(json.loads(fetched.content)) == 3
    assert "attachment" in fetched.headers.get("Content-Disposition", "")
    # The same URL with its signature tampered with is refused by S3.
    assert (
        requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10).status_code
        == 403
    )


def test_prune_deletes_old_objects_and_their_records(s3_server, s3_bucket):
    import datetime as dt

    from django.utils import timezone

    from exports.models import Export

    make_items(1)
    old = services.export_run(dataset="items", fmt="csv", storage="s3")
    recent = services.export_run(dataset="items", fmt="csv", storage="s3")
    Export.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
    result = services.exports_prune(keep_days=7)
    assert result.deleted == 1
    assert s3_server.object_keys(s3_bucket) == [recent.key]
    assert list(Export.objects.values_list("pk", flat=True)) == [recent.pk]


def test_download_before_success_is_409_on_s3_too(s3_bucket, staff_client):
    pending = services.export_request(dataset="items", fmt="csv", storage="s3")
    assert_error(staff_client.get(f"/api/v1/exports/{pending.pk}/download/"), 409, "conflict")


def test_export_data_with_storage_s3_prints_the_key_of_the_stored_object(s3_server, s3_bucket):
    import io
    import re

    from django.core.management import call_command

    make_items(2)
    out = io.StringIO()
    call_command(
        "export_data", "items", "--format", "jsonl", "--gzip", "--storage", "s3", stdout=out
    )
    key = re.search(r"^key: (\S+)$", out.getvalue(), re.M).group(1)
    assert key.endswith(".jsonl.gz")
    assert s3_server.object_keys(s3_bucket) == [key]
    assert "(s3 storage)" in out.getvalue()
