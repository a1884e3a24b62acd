from __future__ import annotations

import json
import shutil

import pytest
from django.test import override_settings

from tests.platform.subprocesses import run_python

pytestmark = pytest.mark.django_db


def exports_storage(**options) -> dict:
    from django.conf import settings

    return {**settings.STORAGES, "exports": options}


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_and_readyz_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_readyz_answers_ok_when_the_database_and_export_storage_answer(client, tmp_path):
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    with override_settings(
        STORAGES=exports_storage(**storage, OPTIONS={"location": tmp_path / "not-yet-made"})
    ):
        response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "exports_storage": "ok"},
    }


def test_readyz_is_503_naming_an_export_directory_that_cannot_be_created(client, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": blocker / "exports"},
    }
    with override_settings(STORAGES=exports_storage(**storage)):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["exports_storage"]
    assert body["checks"] == {"database": "ok", "exports_storage": "unavailable"}
    assert str(blocker) not in response.content.decode()


def test_readyz_is_503_naming_an_unreachable_s3_endpoint(client):
    storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "exports",
            "endpoint_url": "http://127.0.0.1:9",
            "access_key": "key",
            "secret_key": "secret",
            "region_name": "us-east-1",
            "client_config": __import__("botocore.config").config.Config(
                connect_timeout=1, read_timeout=1, retries={"max_attempts": 0}
            ),
        },
    }
    with override_settings(STORAGES=exports_storage(**storage)):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["exports_storage"]


READYZ = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/readyz", HTTP_HOST="localhost")
print(response.status_code, json.dumps(response.json()))
"""


def test_readyz_is_503_naming_an_unreachable_database():
    result = run_python(
        "-c",
        READYZ,
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere",
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split(" ", 1)
    assert status == "503"
    body = json.loads(body)
    assert body["failed"] == ["database"]
    assert body["checks"]["exports_storage"] == "ok"
    assert "127.0.0.1:9" not in result.stdout


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    from tests.s3_server import SeaweedS3

    server = SeaweedS3.start(tmp_path_factory.mktemp("seaweedfs-readyz"))
    yield server
    server.stop()


@pytest.mark.s3
def test_readyz_answers_ok_with_a_reachable_s3_bucket_and_503_without_the_bucket(client, s3_server):
    options = {
        "endpoint_url": s3_server.endpoint_url,
        "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key,
        "region_name": s3_server.region,
        "addressing_style": "path",
    }
    bucket = s3_server.create_bucket()
    for name, status in [(bucket, 200), ("no-such-bucket-here", 503)]:
        storage = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**options, "bucket_name": name},
        }
        with override_settings(STORAGES=exports_storage(**storage)):
            response = client.get("/readyz")
        assert response.status_code == status, (name, response.content)
        assert response.json()["checks"]["exports_storage"] == (
            "ok" if status == 200 else "bucket_missing"
        )


def test_readyz_is_503_while_the_export_disk_has_less_free_space_than_the_minimum(client, tmp_path):
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    free_mb = shutil.disk_usage(tmp_path).free // (1024 * 1024)
    with override_settings(
        STORAGES=exports_storage(**storage, OPTIONS={"location": tmp_path / "exports"}),
        READYZ_MIN_FREE_MB=free_mb + 1024,
    ):
        full = client.get("/readyz")
    with override_settings(
        STORAGES=exports_storage(**storage, OPTIONS={"location": tmp_path / "exports"}),
        READYZ_MIN_FREE_MB=max(free_mb - 64, 0),
    ):
        roomy = client.get("/readyz")

    assert full.status_code == 503
    assert full.json()["failed"] == ["exports_storage"]
    assert full.json()["checks"]["exports_storage"] == "low_disk_space"
    assert roomy.status_code == 200, roomy.content
