from __future__ import annotations

import pytest

from tests.faults.servers import sqlite_site_copy
from tests.s3_server import SeaweedS3


@pytest.fixture
def sqlite_site_db(tmp_path_factory) -> tuple[str, str]:
    """``(DATABASE_URL, staff token)`` of a fresh copy of a migrated SQLite database."""
    return sqlite_site_copy(tmp_path_factory.mktemp("site-db"))


@pytest.fixture(scope="session")
def fault_s3_server(tmp_path_factory):
    """A real SeaweedFS S3 server (the exports helper's ``tests/s3_server.py``)."""
    server = SeaweedS3.start(tmp_path_factory.mktemp("seaweedfs-faults"))
    yield server
    server.stop()
