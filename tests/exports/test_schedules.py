"""Export schedules: admin and staff API, and run_exports requesting each due run exactly once
with windows that neither overlap nor leave gaps."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connections

from exports import services
from exports.models import Export, ExportSchedule
from tests.exports.factories import T0, make_readings
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/export-schedules/"


def make_schedule(**fields) -> ExportSchedule:
    fields = {"name": "daily readings", "dataset": "readings", "every": "day", **fields}
    return services.schedule_save(fields=fields)


def test_staff_create_a_schedule_through_the_api_and_others_cannot(staff_client, user_client):
    body = {
        "name": "nightly",
        "dataset": "readings",
        "format": "jsonl",
        "gzip": True,
        "filters": {"sensor": "A"},
        "every": "day",
    }
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["created_by"] == "staff" and created["storage"] == "local"
    assert created["next_run_at"] and created["last_until"] is None
    assert staff_client.get(URL).json()["count"] == 1
    assert_error(user_client.get(URL), 403)
    assert_error(user_client.post(URL, {**body, "name": "mine"}, format="json"), 403)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dataset": "users"}, "dataset"),
        ({"every": "minute"}, "every"),
        ({"filters": {"since": "2026-01-01"}}, "since"),
        ({"dataset": "items", "filters": {"sensor": "A"}}, "sensor"),
        ({"format": "parquet", "gzip": True}, "gzip"),
    ],
)
def test_a_bad_schedule_is_a_400_naming_the_problem(staff_client, change, field):
    body = {"name": "bad", "dataset": "readings", "every": "day", **change}
    error = assert_error(staff_client.post(URL, body, format="json"), 400)
    assert field in str(error)
    assert not ExportSchedule.objects.exists()


def test_consecutive_runs_cover_the_data_without_overlap_or_gap(local_exports):
    make_readings("A", 60)  # 12:00 .. 12:59
    schedule = make_schedule(next_run_at=T0, every="hour")
    first_at = T0 + dt.timedelta(minutes=20)
    second_at = T0 + dt.timedelta(hours=1, minutes=5)
    [first] = services.schedules_run_due(now=first_at)
    assert services.schedules_run_due(now=first_at) == []  # not due again yet
    [second] = services.schedules_run_due(now=second_at)
    assert first.filters == {"until": "2026-03-01T12:20:00Z"}
    assert second.filters == {"since": "2026-03-01T12:20:00Z", "until": "2026-03-01T13:05:00Z"}
    while (claimed := services.export_claim_next()) is not None:
        services.export_execute(export=claimed)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.rows, second.rows) == (20, 40)
    assert first.schedule == second.schedule == schedule
    schedule.refresh_from_db()
    assert schedule.last_until == second_at
    assert schedule.next_run_at == T0 + dt.timedelta(hours=2)  # on its cadence, no drift


def test_run_exports_requests_due_schedules_and_runs_them(local_exports):
    make_readings("A", 3)
    make_schedule(next_run_at=T0)
    out = io.StringIO()
    call_command("run_exports", stdout=out, stderr=io.StringIO())
    assert "requested export" in out.getvalue()
    export = Export.objects.get()
    assert export.status == "succeeded" and export.rows == 3


def test_an_inactive_schedule_requests_nothing():
    make_schedule(next_run_at=T0, is_active=False)
    assert services.schedules_run_due(now=T0 + dt.timedelta(days=3)) == []


def test_a_schedule_whose_storage_lost_its_settings_records_a_failed_run(settings):
    make_schedule(next_run_at=T0)
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": "b"}
    ExportSchedule.objects.update(storage="s3")
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": None}
    [run] = services.schedules_run_due(now=T0 + dt.timedelta(minutes=1))
    assert run.status == "failed" and "EXPORTS_S3_BUCKET" in run.error


def test_the_admin_creates_schedules_and_refuses_a_bad_one(client, make_user):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    form = {
        "name": "weekly scores",
        "dataset": "scores",
        "format": "csv",
        "filters": "{}",
        "storage": "local",
        "every": "week",
        "is_active": "on",
        "next_run_at_0": "2026-03-01",
        "next_run_at_1": "00:00:00",
    }
    response = client.post("/admin/exports/exportschedule/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ExportSchedule.objects.get().created_by.username == "boss"
    bad = {**form, "name": "bad", "filters": '{"sensor": "A"}'}
    response = client.post("/admin/exports/exportschedule/add/", bad)
    assert (
        response.status_code == 200
        and "has no &#x27;sensor&#x27; filter" in response.content.decode()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_processes_at_once_request_each_due_run_exactly_once():
    schedules = [make_schedule(name=f"s{i}", next_run_at=T0) for i in range(5)]
    now = T0 + dt.timedelta(minutes=1)
    created: list[int] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            created.extend(export.pk for export in services.schedules_run_due(now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(created) == len(set(created)) == len(schedules)
    assert sorted(Export.objects.values_list("schedule_id", flat=True)) == sorted(
        s.pk for s in schedules
    )


def test_staff_change_and_delete_a_schedule_and_its_exports_stay(staff_client, local_exports):
    schedule = make_schedule(next_run_at=T0)
    response = staff_client.patch(
        f"{URL}{schedule.pk}/", {"every": "week", "is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["every"] == "week" and response.json()["is_active"] is False
    bad = staff_client.patch(f"{URL}{schedule.pk}/", {"filters": {"mode": "x"}}, format="json")
    assert_error(bad, 400)
    schedule.refresh_from_db()
    assert schedule.filters == {}
    ExportSchedule.objects.filter(pk=schedule.pk).update(is_active=True)
    [run] = services.schedules_run_due(now=T0 + dt.timedelta(minutes=1))
    assert staff_client.delete(f"{URL}{schedule.pk}/").status_code == 204
    run.refresh_from_db()
    assert run.schedule is None
