"""export_data, run_exports and prune_exports as cron and operators use them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone

from exports import services
from exports.models import Export
from tests.exports.factories import make_items, make_readings

pytestmark = pytest.mark.django_db


def call(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def test_export_data_prints_the_key_rows_bytes_and_sha256(local_exports):
    make_readings("A", 12)
    output = call(
        "export_data", "readings", "--format", "csv", "--sensor", "A", "--since", "2026-03-01"
    )
    key = re.search(r"^key: (\S+)$", output, re.M).group(1)
    data = (local_exports / key).read_bytes()
    assert re.search(r"^rows: 12$", output, re.M)
    assert re.search(rf"^bytes: {len(data)}$", output, re.M)
    assert re.search(rf"^sha256: {hashlib.sha256(data).hexdigest()}$", output, re.M)
    assert "succeeded" in output
    # Not a terminal: no progress bar mixed into the output.
    assert "it/s" not in output and "%|" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users"], "Unknown dataset 'users'"),
        (["items", "--format", "xml"], "Unknown format 'xml'"),
        (["readings", "--since", "2026-02-01", "--until", "2026-01-01"], "must be after"),
        (["readings", "--since", "soon"], "ISO 8601"),
        (["items", "--sensor", "A"], "has no 'sensor' filter"),
        (["scores", "--mode", "snake"], "Unknown mode"),
    ],
)
def test_export_data_exits_non_zero_with_a_one_line_reason(args, message):
    with pytest.raises(CommandError) as caught:
        call("export_data", *args)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not Export.objects.exists()


def test_export_data_to_s3_without_a_bucket_names_the_variable(settings):
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": None}
    with pytest.raises(CommandError, match="EXPORTS_S3_BUCKET"):
        call("export_data", "items", "--storage", "s3")


def test_export_data_refuses_to_start_while_the_same_export_runs():
    running = services.export_start(dataset="items", fmt="csv")
    with pytest.raises(CommandError, match=f"already running \\(export #{running.pk}\\)"):
        call("export_data", "items", "--format", "csv")
    # Another format of the same dataset is another export, and runs.
    assert "succeeded" in call("export_data", "items", "--format", "json")


def test_export_data_reports_a_failed_run_with_its_reason(monkeypatch):
    from exports import formats

    make_items(1)

    def explode(value):
        raise RuntimeError("no space left on device")

    monkeypatch.setattr(formats, "csv_cell", explode)
    monkeypatch.setattr("exports.pipeline.produce.uses_postgres_copy", lambda: False)
    with pytest.raises(CommandError, match="failed: RuntimeError: no space left on device"):
        call("export_data", "items")
    assert Export.objects.get().status == "failed"


def test_run_exports_runs_every_pending_export_once(staff_user, local_exports):
    make_items(2)
    first = services.export_request(dataset="items", fmt="csv", requested_by=staff_user)
    second = services.export_request(dataset="items", fmt="json", requested_by=staff_user)
    output = call("run_exports")
    assert "Ran 2 exports: 2 succeeded, 0 failed." in output
    for export in (first, second):
        export.refresh_from_db()
        assert export.status == "succeeded" and (local_exports / export.key).exists()
    assert "Ran 0 exports" in call("run_exports")


def test_run_exports_leaves_an_export_pending_while_its_twin_is_running():
    running = services.export_start(dataset="items", fmt="csv")
    twin = services.export_request(dataset="items", fmt="csv")
    assert "Ran 0 exports" in call("run_exports")
    twin.refresh_from_db()
    assert twin.status == "pending"
    services.export_execute(export=running)
    assert "Ran 1 exports" in call("run_exports")


def storage_gone(settings) -> None:
    """The storage goes away between the request and the run."""
    settings.EXPORTS_LOCAL_ROOT = "/proc/no-such-place"
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": "/proc/no-such-place"},
        },
    }


def run_exports_failing(*args: str) -> tuple[str, str]:
    """run_exports that must fail: its one-line reason and what else it wrote to stderr."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("run_exports", *args, stdout=io.StringIO(), stderr=err)
    return str(failed.value), err.getvalue()


def test_run_exports_exits_non_zero_with_the_failure_as_its_one_line(settings):
    export = services.export_request(dataset="items", fmt="csv")
    storage_gone(settings)
    line, stderr = run_exports_failing()
    assert line == f"#{export.pk} items failed: FileNotFoundError: " + (
        "[Errno 2] No such file or directory: '/proc/no-such-place'"
    )
    assert stderr == ""  # the CommandError is the one line cron mails
    assert Export.objects.get().status == "failed"


def test_run_exports_lists_several_failures_briefly_in_one_line(monkeypatch, local_exports):
    def disk_full(**_kwargs):
        raise OSError("disk full " * 100)

    monkeypatch.setattr("exports.services.runs.file_produce", disk_full)
    dead = services.export_start(dataset="sensors", fmt="csv")
    Export.objects.filter(pk=dead.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    first = services.export_request(dataset="items", fmt="csv")
    second = services.export_request(dataset="items", fmt="json")
    line, stderr = run_exports_failing()
    assert stderr == "" and "\n" not in line
    cut = "(OSError: disk full disk full "
    assert line.startswith(
        f"3 of 3 exports failed: #{dead.pk} (its worker's lease expired.); #{first.pk} items {cut}"
    )
    assert f"full…); #{second.pk} items {cut}" in line
    assert len(line) < 500  # each reason cut short, not 3 x 1,000 characters


def test_run_exports_as_a_worker_says_each_failure_on_stderr_as_it_happens(settings):
    export = services.export_request(dataset="items", fmt="csv")
    storage_gone(settings)
    err = io.StringIO()
    out = io.StringIO()
    call_command(
        "run_exports", "--loop", "--interval", "0.01", "--max-exports", "1", stdout=out, stderr=err
    )
    assert err.getvalue().startswith(f"#{export.pk} items failed: FileNotFoundError")
    assert "Ran 1 exports: 0 succeeded, 1 failed." in out.getvalue()


def test_prune_exports_deletes_old_files_and_records(local_exports):
    make_items(1)
    old = services.export_run(dataset="items", fmt="csv")
    Export.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    assert "Pruned 1 exports." in call("prune_exports", "--keep-days", "2")
    assert not Export.objects.exists() and not (local_exports / old.key).exists()


def test_prune_exports_refuses_a_negative_age():
    with pytest.raises(CommandError, match="--keep-days must be 0 or more"):
        call("prune_exports", "--keep-days", "-1")


def test_prune_exports_keeps_the_record_when_the_file_cannot_be_deleted(local_exports):
    make_items(1)
    old = services.export_run(dataset="items", fmt="csv")
    Export.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3), storage="s3"
    )  # S3 is not configured here: deleting its object fails
    with pytest.raises(CommandError, match="1 could not be deleted"):
        call("prune_exports", "--keep-days", "1")
    assert Export.objects.filter(pk=old.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_one_export_twice(local_exports):
    """Two run_exports workers, each with its own database connection, drain one queue."""
    make_items(5)
    requested = [
        services.export_request(dataset="items", fmt=fmt, compress=gz, filters=filters)
        for fmt in ("csv", "json", "jsonl")
        for gz in (False, True)
        for filters in ({}, {"since": "2026-01-01"}, {"until": "2030-01-01"})
    ]
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        try:
            start.wait()
            while (export := services.export_claim_next()) is not None:
                claimed[name].append(export.pk)
                services.export_execute(export=export)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    all_claims = claimed["a"] + claimed["b"]
    assert sorted(all_claims) == sorted(export.pk for export in requested)  # each exactly once
    assert claimed["a"] and claimed["b"], claimed  # both workers took part
    statuses = set(Export.objects.values_list("status", flat=True))
    assert statuses == {"succeeded"}
    keys = list(Export.objects.values_list("key", flat=True))
    assert len(set(keys)) == len(keys) == len(requested)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_export_data_shows_a_progress_bar_on_stderr_only_on_a_terminal(capsys):
    make_readings("A", 120)
    out = _Terminal()
    call_command("export_data", "readings", "--format", "jsonl", stdout=out)
    assert "rows: 120" in out.getvalue()
    bar = capsys.readouterr().err
    assert "export readings" in bar and "120" in bar


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_starts_of_the_same_export_let_exactly_one_run():
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def attempt() -> None:
        try:
            start.wait()
            services.export_start(dataset="items", fmt="csv", filters={"since": "2026-01-01"})
            outcomes.append("started")
        except services.ExportAlreadyRunning:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "started"]
    assert Export.objects.filter(status="running").count() == 1


def test_run_exports_as_a_worker_polls_until_it_has_run_its_quota():
    first = services.export_request(dataset="items", fmt="csv")
    output = call("run_exports", "--loop", "--interval", "0.01", "--max-exports", "1")
    assert "Ran 1 exports: 1 succeeded" in output
    first.refresh_from_db()
    assert first.status == "succeeded"


@pytest.mark.parametrize("args", [["--interval", "0"], ["--max-exports", "-1"]])
def test_run_exports_refuses_nonsense_options(args):
    with pytest.raises(CommandError, match="--interval must be > 0"):
        call("run_exports", *args)


@pytest.mark.django_db(transaction=True)  # the processes commit; the tables are emptied after
def test_a_failed_command_prints_one_line_and_logs_the_traceback_to_the_file_only(tmp_path):
    """As cron runs it: real processes, S3 unreachable (nothing listens on port 9). On the
    database the tests run on: a SQLite file of its own, or this test's PostgreSQL database."""
    import os
    import subprocess
    import sys
    from urllib.parse import urlsplit

    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    if connection.vendor == "postgresql":
        given = urlsplit(os.environ["DATABASE_URL"])
        database_url = given._replace(path=f"/{connection.settings_dict['NAME']}").geturl()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "targets_site.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database_url,
        "EXPORTS_S3_BUCKET": "exports",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
    }
    env.pop("DJANGO_LOG_LEVEL", None)
    from django.conf import settings

    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, timeout=120)
    log = settings.LOG_DIR / "targets.log"
    logged_before = log.stat().st_size if log.exists() else 0
    done = subprocess.run(
        [*manage, "export_data", "items", "--storage", "s3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    started = re.match(r"CommandError: Export #(\d+) failed:", lines[0])
    assert started, lines[0]
    assert "127.0.0.1:9" in lines[0] or "Connect" in lines[0]
    with open(log, "rb") as handle:
        handle.seek(logged_before)
        logged = handle.read().decode()
    assert "Traceback" in logged and f"export {started[1]} failed" in logged

    # run_exports as cron runs it: the failed run is its one line, not also a line of its own.
    request = (
        "from exports import services; "
        "services.export_request(dataset='items', fmt='csv', storage='s3')"
    )
    subprocess.run([*manage, "shell", "-c", request], env=env, check=True, timeout=120)
    done = subprocess.run(
        [*manage, "run_exports"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.match(r"CommandError: #\d+ items failed: ", lines[0]), lines[0]
    assert "127.0.0.1:9" in lines[0] or "Connect" in lines[0]
