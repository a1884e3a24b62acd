"""Exports to a real S3 server (SeaweedFS, started by the session fixture)."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
import requests
from django.db import DatabaseError

from exports import formats, services, storage
from exports.models import Export
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


def test_an_exception_half_way_leaves_no_object_in_the_bucket(
    s3_server, s3_bucket, monkeypatch, python_writer
):
    make_readings("A", 50)
    real = formats.json_text
    calls = {"n": 0}

    def failing(value):
        calls["n"] += 1
        if calls["n"] > 60:
            raise RuntimeError("boom half-way")
        return real(value)

    monkeypatch.setattr(formats, "json_text", failing)
    export = services.export_run(dataset="readings", fmt="json", storage="s3")
    assert export.status == "failed"
    assert export.error == "RuntimeError: boom half-way"
    assert s3_server.object_keys(s3_bucket) == []


def _big_rows(count: int):
    return (("A" * 60, f"2026-01-01T00:00:{i % 60:02d}Z", float(i)) for i in range(count))


def _uploads(s3_server, bucket: str) -> list:
    return s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


@pytest.fixture
def small_parts(monkeypatch):
    """5 MB parts (S3's minimum), so a few MB of rows make a multipart upload."""
    from boto3.s3.transfer import TransferConfig

    five_mb = 5 * 1024 * 1024
    config = TransferConfig(
        multipart_threshold=five_mb, multipart_chunksize=five_mb, max_concurrency=2
    )
    monkeypatch.setattr("exports.pipeline.publish.transfer_config", lambda: config)
    return five_mb


def _count_parts(s3_bucket_storage, parts: list[int]) -> None:
    client = s3_bucket_storage.connection.meta.client
    client.meta.events.register(
        "before-parameter-build.s3.UploadPart",
        lambda params, **kwargs: parts.append(params["PartNumber"]),
    )


@pytest.mark.parametrize("compress", [False, True])
def test_a_multipart_export_is_one_object_equal_to_the_rows_written(
    s3_server, s3_bucket, small_parts, monkeypatch, python_writer, compress
):
    monkeypatch.setattr("exports.datasets.Dataset.rows", lambda self, filters: _big_rows(150_000))
    parts: list[int] = []
    _count_parts(storage.export_storage("s3"), parts)
    export = services.export_run(dataset="readings", fmt="jsonl", compress=compress, storage="s3")

    assert export.status == "succeeded", export.error
    assert s3_server.object_keys(s3_bucket) == [export.key]
    assert _uploads(s3_server, s3_bucket) == []
    body = s3_server.client().get_object(Bucket=s3_bucket, Key=export.key)["Body"].read()
    assert (len(body), hashlib.sha256(body).hexdigest()) == (export.bytes, export.sha256)
    text = gzip.decompress(body) if compress else body
    lines = text.decode().splitlines()
    assert len(lines) == export.rows == 150_000
    assert json.loads(lines[-1])["value"] == 149_999.0
    if not compress:  # 18 MB: four parts
        assert sorted(parts) == [1, 2, 3, 4]


def test_an_error_while_writing_rows_leaves_no_object(
    s3_server, s3_bucket, monkeypatch, python_writer
):
    def rows(self, filters):
        yield from _big_rows(50_000)
        raise DatabaseError("connection lost half-way")

    monkeypatch.setattr("exports.datasets.Dataset.rows", rows)
    export = services.export_run(dataset="readings", fmt="jsonl", storage="s3")
    assert export.status == "failed"
    assert export.error == "DatabaseError: connection lost half-way"
    assert s3_server.object_keys(s3_bucket) == []


def test_an_s3_error_on_a_part_aborts_the_upload_and_leaves_no_object(
    s3_server, s3_bucket, small_parts, monkeypatch, python_writer
):
    """The upload disappears on the server mid-way (a real NoSuchUpload from SeaweedFS); the
    transfer manager aborts what is left of it."""
    monkeypatch.setattr("exports.datasets.Dataset.rows", lambda self, filters: _big_rows(150_000))
    client = storage.export_storage("s3").connection.meta.client

    def abort_on_part_2(params, **kwargs):
        if params["PartNumber"] == 2:
            s3_server.client().abort_multipart_upload(
                Bucket=params["Bucket"], Key=params["Key"], UploadId=params["UploadId"]
            )

    client.meta.events.register("before-parameter-build.s3.UploadPart", abort_on_part_2)
    try:
        export = services.export_run(dataset="readings", fmt="jsonl", storage="s3")
    finally:
        client.meta.events.unregister("before-parameter-build.s3.UploadPart", abort_on_part_2)
    assert export.status == "failed"
    assert "NoSuchUpload" in export.error or "UploadPart" in export.error, export.error
    assert s3_server.object_keys(s3_bucket) == []
    assert _uploads(s3_server, s3_bucket) == []


def test_an_interrupt_half_way_is_recorded_and_leaves_no_object(
    s3_server, s3_bucket, monkeypatch, python_writer
):
    def rows(self, filters):
        yield from _big_rows(50_000)
        raise KeyboardInterrupt

    monkeypatch.setattr("exports.datasets.Dataset.rows", rows)
    with pytest.raises(KeyboardInterrupt):
        services.export_run(dataset="readings", fmt="jsonl", storage="s3")
    assert s3_server.object_keys(s3_bucket) == []
    assert Export.objects.get().status == "failed"


def test_an_object_appearing_at_the_key_during_the_run_is_never_overwritten(
    s3_server, s3_bucket, monkeypatch, python_writer
):
    def rows(self, filters):
        yield from _big_rows(100_000)
        key = Export.objects.latest("pk").key
        s3_server.client().put_object(Bucket=s3_bucket, Key=key, Body=b"someone else's")

    monkeypatch.setattr("exports.datasets.Dataset.rows", rows)
    export = services.export_run(dataset="readings", fmt="jsonl", storage="s3")
    assert export.status == "failed"
    assert "exists already" in export.error
    body = s3_server.client().get_object(Bucket=s3_bucket, Key=export.key)["Body"].read()
    assert body == b"someone else's"


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


def test_the_s3_object_has_the_bytes_of_the_same_export_on_local_disk(
    s3_server, s3_bucket, local_exports, small_parts
):
    """On PostgreSQL this is the COPY path; every format, gzipped or not."""
    make_readings("S" * 50, 140_000)  # ~11 MB of CSV: a multipart upload of three parts
    for fmt, compress in [("csv", False), ("csv", True), ("jsonl", True), ("parquet", False)]:
        local = services.export_run(dataset="readings", fmt=fmt, compress=compress)
        remote = services.export_run(dataset="readings", fmt=fmt, compress=compress, storage="s3")
        assert remote.status == "succeeded", remote.error
        body = s3_server.client().get_object(Bucket=s3_bucket, Key=remote.key)["Body"].read()
        assert body == (local_exports / local.key).read_bytes()
        assert (remote.rows, remote.bytes, remote.sha256) == (local.rows, local.bytes, local.sha256)
        if fmt == "csv" and not compress:
            assert remote.bytes > 2 * small_parts
    assert _uploads(s3_server, s3_bucket) == []
