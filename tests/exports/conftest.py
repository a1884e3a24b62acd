from __future__ import annotations

import pytest

from tests.s3_server import SeaweedS3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One real SeaweedFS S3 server for the whole session (started on first use)."""
    server = SeaweedS3.start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()
