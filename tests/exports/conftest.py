from __future__ import annotations

import pytest

from tests.s3_server import SeaweedS3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One real SeaweedFS S3 server for the whole session (started on first use)."""
    server = SeaweedS3.start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server, settings) -> str:
    """A fresh bucket on the SeaweedFS server, configured as the S3 export target."""
    bucket = s3_server.create_bucket()
    settings.EXPORTS_S3_OPTIONS = {
        **settings.EXPORTS_S3_OPTIONS,
        "bucket_name": bucket,
        "endpoint_url": s3_server.endpoint_url,
        "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key,
        "region_name": s3_server.region,
    }
    return bucket


@pytest.fixture
def python_writer(monkeypatch):
    """Rows through the ORM and the Python writers, on PostgreSQL too (not COPY): for tests
    that feed or break the row stream itself."""
    monkeypatch.setattr("exports.pipeline.produce.uses_postgres_copy", lambda: False)
