"""Leases (a dead worker's export is failed with a reason and its partial file removed) and
cancelling pending or running exports (service, admin action, API)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

from exports import services
from exports.models import Export
from exports.services import leases
from exports.storage import partial_dir
from targets_site.errors import Conflict
from tests.exports.factories import make_items, make_readings, sqlite_site
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_run_exports_fails_an_export_whose_lease_expired_and_removes_its_partial_file(
    local_exports, capsys
):
    dead = services.export_start(dataset="items", fmt="csv")
    partial = partial_dir() / f"export-{dead.pk}-abc.part"
    partial.write_bytes(b"x" * 1000)
    other = partial_dir() / "export-999999-live.part"  # another export's: left alone
    other.write_bytes(b"y")
    Export.objects.filter(pk=dead.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    with pytest.raises(CommandError) as failed:
        call_command("run_exports")

    dead.refresh_from_db()
    assert dead.status == "failed"
    assert "stopped renewing the lease" in dead.error
    assert not partial.exists() and other.exists()
    # A failure like any other: the command's one line (and exit status 1), nothing else.
    assert str(failed.value) == f"#{dead.pk} failed: its worker's lease expired."
    assert capsys.readouterr().err == ""


def test_a_live_lease_is_left_alone():
    alive = services.export_start(dataset="items", fmt="csv")
    assert services.leases_expire() == []
    alive.refresh_from_db()
    assert alive.status == "running" and alive.lease_expires_at > timezone.now()


@pytest.mark.django_db(transaction=True)
def test_a_running_export_renews_its_lease_while_it_writes(monkeypatch, python_writer):
    monkeypatch.setattr(leases, "RENEW_EVERY", dt.timedelta(seconds=0.05))
    make_readings("A", 50)
    seen: list[dt.datetime] = []
    from exports.datasets import Dataset

    original_rows = Dataset.rows

    def slow_rows(self, filters):
        for row in original_rows(self, filters):
            time.sleep(0.01)
            yield row
        seen.append(Export.objects.get().lease_expires_at)

    monkeypatch.setattr(Dataset, "rows", slow_rows)
    export = services.export_start(dataset="readings", fmt="csv")
    first_lease = export.lease_expires_at
    export = services.export_execute(export=export)
    assert export.status == "succeeded", export.error
    assert seen[0] > first_lease  # renewed during the run
    assert export.lease_expires_at is None  # no lease once it ended


def test_staff_cancel_a_pending_export_through_the_api(staff_client):
    pending = services.export_request(dataset="items", fmt="csv")
    response = staff_client.post(f"/api/v1/exports/{pending.pk}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "failed"
    assert response.json()["error"] == "Cancelled by staff."
    assert "Ran 0 exports" in _run_exports()  # nothing left to run


def test_cancelling_a_finished_export_is_a_409(staff_client, user_client):
    make_items(1)
    done = services.export_run(dataset="items", fmt="csv")
    assert_error(staff_client.post(f"/api/v1/exports/{done.pk}/cancel/"), 409, "conflict")
    assert_error(user_client.post(f"/api/v1/exports/{done.pk}/cancel/"), 403)
    with pytest.raises(Conflict):
        services.export_cancel(export=done)


def test_the_admin_action_cancels_the_selected_pending_and_running_exports(client, make_user):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    pending = services.export_request(dataset="items", fmt="csv")
    running = services.export_start(dataset="items", fmt="json")
    response = client.post(
        "/admin/exports/export/",
        {"action": "cancel_exports", "_selected_action": [pending.pk, running.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Cancelled 2 exports." in response.content.decode()
    assert set(Export.objects.values_list("status", "error")) == {("failed", "Cancelled by boss.")}


@pytest.mark.django_db(transaction=True)
def test_a_running_export_that_is_cancelled_stops_and_leaves_no_file(
    local_exports, monkeypatch, python_writer
):
    monkeypatch.setattr(leases, "RENEW_EVERY", dt.timedelta(seconds=0.05))
    # More rows than one fetch: the rows' cursor is still open when the cancel stops the run.
    monkeypatch.setattr("exports.datasets.registry.CHUNK_SIZE", 50)
    make_readings("A", 200)
    from exports.datasets import Dataset

    original_rows = Dataset.rows
    started = threading.Event()

    def slow_rows(self, filters):
        for row in original_rows(self, filters):
            started.set()
            time.sleep(0.02)
            yield row

    monkeypatch.setattr(Dataset, "rows", slow_rows)
    export = services.export_start(dataset="readings", fmt="jsonl")

    def cancel_soon() -> None:
        started.wait(10)
        services.export_cancel(export=Export.objects.get(pk=export.pk))
        connections.close_all()

    canceller = threading.Thread(target=cancel_soon)
    canceller.start()
    began = time.monotonic()
    export = services.export_execute(export=export)
    canceller.join()
    assert time.monotonic() - began < 3  # 200 rows x 20 ms would take 4 s
    assert export.status == "failed" and export.error == "Cancelled."
    assert [p for p in local_exports.rglob("*") if p.is_file()] == []


# Run in a process of its own on a SQLite file in WAL mode, as the site runs (the tests' in-memory
# database has no snapshots). Half-way through the rows (more than one fetch, so their cursor is
# open), another connection writes — the lease keeper's renewal, or staff cancelling — and then
# the run stops: the writer fails on a value, or the keeper has seen the cancel.
HALF_WAY = """
import sys, threading, time, datetime as dt, django
django.setup()
from django.db import connections
from exports import services
from exports.datasets import Dataset, registry
from exports.models import Export
from exports.services import leases

registry.CHUNK_SIZE = 50
leases.RENEW_EVERY = dt.timedelta(seconds=0.05)
original_rows = Dataset.rows

class Unwritable:
    def __str__(self):
        raise OSError(28, "No space left on device")
    __float__ = __repr__ = __str__

def in_another_thread(work):
    def run():
        work()
        connections.close_all()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()

def rows_stopping_half_way(self, filters):
    for index, row in enumerate(original_rows(self, filters)):
        if index == 60 and sys.argv[1] == "cancel":
            in_another_thread(
                lambda: services.export_cancel(export=Export.objects.get(pk=export.pk)))
            time.sleep(0.5)  # the keeper notices
        elif index == 60:
            in_another_thread(leases.LeaseKeeper(export.pk).renew)
            row = (*row[:-1], Unwritable())
        yield row

Dataset.rows = rows_stopping_half_way
export = services.export_start(dataset="readings", fmt=sys.argv[-1])
export = services.export_execute(export=export)
print(export.status, export.error)
"""


@pytest.mark.parametrize("how", [("fail", "csv"), ("cancel", "jsonl")], ids="-".join)
def test_an_export_stopped_half_way_on_sqlite_is_recorded_failed_after_another_write(tmp_path, how):
    """It was not: SQLite refused the write that records the failure ("database is locked":
    the traceback kept the rows' cursor and its old snapshot open), the error escaped the run
    (a run_exports worker died) and a failed export stayed "running" until its lease expired."""
    db, env = sqlite_site(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO sensors_reading (sensor_id, timestamp, value) VALUES (1, ?, 1.5)",
            [(f"2026-01-01 00:{minute // 60:02d}:{minute % 60:02d}",) for minute in range(200)],
        )
    run = subprocess.run(
        [sys.executable, "-c", HALF_WAY, *how],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("failed ")
    if how == ("fail", "csv"):
        assert "No space left on device" in run.stdout
    if how[0] == "cancel":
        assert "Cancelled" in run.stdout
    with sqlite3.connect(db) as conn:
        [(status,)] = conn.execute("SELECT status FROM exports_export").fetchall()
    assert status == "failed"


def _run_exports() -> str:
    import io

    out = io.StringIO()
    call_command("run_exports", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.slow
def test_a_worker_killed_with_sigkill_is_failed_by_run_exports_and_its_partial_file_removed(
    tmp_path,
):
    """The issue's scenario with real processes: ``kill -9`` of an export half-way leaves a
    running record and a .part file; once its lease has expired (time moved on by hand),
    ``run_exports`` fails it with the reason and removes the file."""
    import os
    import signal

    from django.conf import settings

    # The processes use the checkout's var/ (this test process has a temp export dir of its own).
    db, env = sqlite_site(tmp_path)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "generate_readings", "--sensor", "A", "--days", "300", "--step", "60"],
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )  # 432,000 readings: many seconds of JSON Lines on SQLite's Python path
    partial_root = settings.BASE_DIR / "var" / "exports" / ".partial"
    before = set(partial_root.glob("export-*")) if partial_root.exists() else set()
    worker = subprocess.Popen(
        [*manage, "export_data", "readings", "--format", "jsonl"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    partials: list = []
    while time.monotonic() < deadline and worker.poll() is None:
        partials = [
            p
            for p in partial_root.glob("export-1-*.part")
            if p not in before and p.stat().st_size > 0
        ]
        if partials:
            break
        time.sleep(0.05)
    assert partials and worker.poll() is None, "the export never got under way"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM exports_export").fetchall() == [("running",)]
        # Two minutes later, as far as the lease is concerned.
        conn.execute("UPDATE exports_export SET lease_expires_at = '2000-01-01 00:00:00'")
    done = subprocess.run(
        [*manage, "run_exports"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr == "CommandError: #1 failed: its worker's lease expired.\n"
    with sqlite3.connect(db) as conn:
        [(status, error)] = conn.execute("SELECT status, error FROM exports_export").fetchall()
    assert status == "failed" and "stopped renewing the lease" in error
    assert not any(p.exists() for p in partials)
