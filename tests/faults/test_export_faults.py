"""Exports under storage faults, run the way cron runs them (``manage.py export_data``).

Each failure must leave nothing at the final key, a ``failed`` record with the reason, a
non-zero exit, and must not stop the next run from succeeding.
"""

from __future__ import annotations

import io
import os
import pwd
import resource
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from exports.models import Export
from tests.exports.factories import make_items
from tests.faults.servers import CuttableProxy

pytestmark = pytest.mark.django_db


def export_data(*args: str) -> str:
    out = io.StringIO()
    call_command("export_data", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def files_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def s3_behind_a_proxy(fault_s3_server, settings, local_exports):
    """The S3 export target reached through a proxy the test can cut."""
    host_port = fault_s3_server.endpoint_url.rsplit("/", 1)[-1].split(":")
    proxy = CuttableProxy(host_port[0], int(host_port[1])).start()
    bucket = fault_s3_server.create_bucket()
    settings.EXPORTS_S3_OPTIONS = {
        **settings.EXPORTS_S3_OPTIONS,
        "bucket_name": bucket,
        "endpoint_url": f"http://127.0.0.1:{proxy.port}",
        "access_key": fault_s3_server.access_key,
        "secret_key": fault_s3_server.secret_key,
        "region_name": fault_s3_server.region,
    }
    yield proxy, bucket
    proxy.stop()


@pytest.mark.s3
def test_s3_down_fails_the_export_with_exit_non_zero_and_a_rerun_succeeds(
    s3_behind_a_proxy, fault_s3_server
):
    proxy, bucket = s3_behind_a_proxy
    make_items(20)
    proxy.cut()
    with pytest.raises(CommandError):
        export_data("items", "--format", "csv", "--storage", "s3")
    failed = Export.objects.get()
    assert failed.status == "failed"
    assert failed.error
    assert fault_s3_server.object_keys(bucket) == []

    proxy.restore()
    output = export_data("items", "--format", "csv", "--storage", "s3")
    assert "succeeded" in output
    done = Export.objects.exclude(pk=failed.pk).get()
    assert done.status == "succeeded" and done.rows == 20
    assert fault_s3_server.object_keys(bucket) == [done.key]


@pytest.mark.s3
def test_an_exception_half_way_to_s3_leaves_no_object_and_a_rerun_succeeds(
    s3_behind_a_proxy, fault_s3_server, monkeypatch
):
    _, bucket = s3_behind_a_proxy
    make_items(50)
    calls = {"n": 0}

    def failing_rows(self, filters):
        for n, row in enumerate(original_rows(self, filters)):
            if n == 25:
                raise RuntimeError("worker crashed half-way")
            calls["n"] += 1
            yield row

    from exports.datasets import Dataset

    # The Python writer on PostgreSQL too: this test breaks the ORM's row stream.
    monkeypatch.setattr("exports.pipeline.produce.uses_postgres_copy", lambda: False)
    original_rows = Dataset.rows
    monkeypatch.setattr(Dataset, "rows", failing_rows)
    with pytest.raises(CommandError, match="half-way"):
        export_data("items", "--format", "jsonl", "--storage", "s3")
    assert calls["n"] == 25
    assert Export.objects.get().error == "RuntimeError: worker crashed half-way"
    assert fault_s3_server.object_keys(bucket) == []

    monkeypatch.setattr(Dataset, "rows", original_rows)
    export_data("items", "--format", "jsonl", "--storage", "s3")
    assert [e.status for e in Export.objects.order_by("id")] == ["failed", "succeeded"]
    assert len(fault_s3_server.object_keys(bucket)) == 1


@contextmanager
def privileges_dropped() -> Iterator[None]:
    """Run the block as ``nobody`` when the tests run as root (as CI does).

    Root ignores directory permissions, so as root an unwritable directory cannot fail the way
    it fails for the unprivileged user a production worker runs as. Only the effective ids
    change, so the block ends as root again.
    """
    if os.geteuid() != 0:
        yield
        return
    nobody = pwd.getpwnam("nobody")
    groups = os.getgroups()
    os.setgroups([])
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


@pytest.fixture
def export_directory_anyone_may_enter(settings):
    """The local export directory, outside pytest's temporary directory (only root may enter
    that), so that a dropped-privileges export meets this directory's own permissions."""
    base = Path(tempfile.mkdtemp(prefix="targets-exports-"))
    base.chmod(0o755)
    root = base / "exports-storage"
    root.mkdir()
    root.chmod(0o755)
    settings.EXPORTS_LOCAL_ROOT = root
    storage = {**settings.STORAGES["exports"], "OPTIONS": {"location": root, "base_url": None}}
    settings.STORAGES = {**settings.STORAGES, "exports": storage}
    yield root
    for path in (root, *root.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(base)


def test_an_unwritable_export_directory_fails_with_the_reason_and_no_file(
    export_directory_anyone_may_enter,
):
    root = export_directory_anyone_may_enter
    make_items(5)
    # Writable: succeeds (and imports, as root, every module the export path needs: the
    # interpreter's own library may be readable by root alone).
    export_data("items", "--format", "csv")
    written = files_under(root)
    for path in (root, *root.rglob("*")):
        if path.is_dir():
            path.chmod(0o555)

    with privileges_dropped(), pytest.raises(CommandError):
        export_data("items", "--format", "csv")
    failed = Export.objects.get(status="failed")
    assert "Permission denied" in failed.error
    assert files_under(root) == written

    for path in (root, *root.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    export_data("items", "--format", "csv")
    assert Export.objects.filter(status="succeeded", rows=5).count() == 2
    assert len(files_under(root)) == 2


def test_an_export_directory_that_is_a_file_fails_with_the_reason_and_no_file(local_exports):
    # Works as root too: nothing can be created under a path that is a regular file.
    make_items(5)
    local_exports.parent.mkdir(parents=True, exist_ok=True)
    local_exports.write_text("not a directory")
    with pytest.raises(CommandError):
        export_data("items", "--format", "csv")
    export = Export.objects.get()
    assert export.status == "failed"
    assert export.error
    assert local_exports.read_text() == "not a directory"

    local_exports.unlink()
    export_data("items", "--format", "csv")
    assert Export.objects.filter(status="succeeded").count() == 1


@pytest.fixture
def disk_of(request):
    """Files may grow to ``limit`` bytes, as if the disk filled up there (RLIMIT_FSIZE: writes
    past it fail with EFBIG instead of killing the process, since SIGXFSZ is ignored)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def fill_at(limit: int) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

    yield fill_at
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, previous)


def test_a_full_disk_fails_the_export_with_the_reason_and_leaves_no_partial_file(
    local_exports, disk_of, tmp_path
):
    make_items(3000)  # about 150 kB of CSV
    local_exports.mkdir(parents=True)
    disk_of(64 * 1024)
    with pytest.raises(CommandError):
        export_data("items", "--format", "csv")
    disk_of(resource.RLIM_INFINITY)
    export = Export.objects.get()
    assert export.status == "failed"
    assert "too large" in export.error.lower() or "space" in export.error.lower(), export.error
    assert files_under(local_exports) == []
    assert [p for p in tmp_path.rglob("*.partial*") if p.is_file()] == []

    export_data("items", "--format", "csv")
    assert Export.objects.filter(status="succeeded", rows=3000).count() == 1
