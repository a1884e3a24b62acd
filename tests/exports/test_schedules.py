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
from targets_site.errors import InvalidInput
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


def test_a_schedule_whose_storage_lost_its_settings_records_a_failed_run_and_keeps_its_window(
    settings,
):
    make_schedule(next_run_at=T0)
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": "b"}
    ExportSchedule.objects.update(storage="s3")
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": None}
    [run] = services.schedules_run_due(now=T0 + dt.timedelta(minutes=1))
    assert run.status == "failed" and "EXPORTS_S3_BUCKET" in run.error
    # The window goes back to the schedule: the next period's run retries it.
    schedule = ExportSchedule.objects.get()
    assert schedule.last_until is None and schedule.next_run_at == T0 + dt.timedelta(days=1)


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


def run_all_pending() -> None:
    while (claimed := services.export_claim_next()) is not None:
        services.export_execute(export=claimed)


def storage_gone(settings) -> None:
    """The export storage goes away: every run from now on fails."""
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": "/proc/no-such-place"},
        },
    }


def test_a_failed_run_gives_its_window_to_the_next_run_so_no_rows_are_lost(local_exports, settings):
    make_readings("A", 180)  # 12:00 .. 14:59
    schedule = make_schedule(next_run_at=T0, every="hour")
    [first] = services.schedules_run_due(now=T0 + dt.timedelta(minutes=30))
    run_all_pending()
    first.refresh_from_db()
    assert first.status == "succeeded" and first.rows == 30
    good_storage = settings.STORAGES
    storage_gone(settings)
    [failed] = services.schedules_run_due(now=T0 + dt.timedelta(hours=1, minutes=30))
    run_all_pending()
    failed.refresh_from_db()
    assert failed.status == "failed"
    schedule.refresh_from_db()
    assert schedule.last_until == T0 + dt.timedelta(minutes=30)  # back to the failed run's since
    settings.STORAGES = good_storage
    [third] = services.schedules_run_due(now=T0 + dt.timedelta(hours=2, minutes=30))
    assert third.filters == {"since": "2026-03-01T12:30:00Z", "until": "2026-03-01T14:30:00Z"}
    run_all_pending()
    third.refresh_from_db()
    assert third.status == "succeeded" and third.rows == 120
    assert first.rows + third.rows == 150  # every row before 14:30, each once


def test_a_failed_first_run_leaves_the_next_run_starting_from_the_beginning(settings):
    schedule = make_schedule(next_run_at=T0, every="hour")
    storage_gone(settings)
    [failed] = services.schedules_run_due(now=T0 + dt.timedelta(minutes=1))
    run_all_pending()
    failed.refresh_from_db()
    assert failed.status == "failed"
    schedule.refresh_from_db()
    assert schedule.last_until is None
    # One run per period: not due again until the next one, then it covers everything.
    assert services.schedules_run_due(now=T0 + dt.timedelta(minutes=2)) == []
    [retry] = services.schedules_run_due(now=T0 + dt.timedelta(hours=1))
    assert retry.filters == {"until": "2026-03-01T13:00:00Z"}


def test_a_cancelled_or_expired_run_gives_its_window_back(staff_user):
    since = T0 - dt.timedelta(days=1)
    schedule = make_schedule(next_run_at=T0, every="hour", last_until=since)
    [cancelled] = services.schedules_run_due(now=T0 + dt.timedelta(minutes=1))
    services.export_cancel(export=cancelled, by=staff_user)
    schedule.refresh_from_db()
    assert schedule.last_until == since
    [expired] = services.schedules_run_due(now=T0 + dt.timedelta(hours=1))
    assert expired.filters["since"] == "2026-02-28T12:00:00Z"
    Export.objects.filter(pk=expired.pk).update(
        status="running", lease_expires_at=T0 - dt.timedelta(minutes=1)
    )
    assert services.leases_expire() == [expired.pk]
    schedule.refresh_from_db()
    assert schedule.last_until == since


def test_a_run_failing_after_a_later_run_was_requested_says_how_to_export_its_window(staff_user):
    make_schedule(next_run_at=T0, every="hour", filters={"sensor": "A b"})
    [late] = services.schedules_run_due(now=T0 + dt.timedelta(minutes=1))
    [later] = services.schedules_run_due(now=T0 + dt.timedelta(hours=1))
    services.export_cancel(export=late, by=staff_user)
    late.refresh_from_db()
    schedule = ExportSchedule.objects.get()
    assert schedule.last_until == T0 + dt.timedelta(hours=1)  # the later run's window stays
    assert late.error.startswith("Cancelled by staff. ")
    assert "from the beginning of the data until 2026-03-01T12:01:00Z were not exported" in (
        late.error
    )
    assert late.error.endswith(
        "run: manage.py export_data readings --format csv --sensor 'A b'"
        " --until 2026-03-01T12:01:00Z --storage local"
    )
    assert Export.objects.count() == 2  # nothing else was requested
    # The later run failing too gives back its own window only.
    services.export_cancel(export=later, by=staff_user)
    schedule.refresh_from_db()
    assert schedule.last_until == T0 + dt.timedelta(minutes=1)


ADMIN_ADD = "/admin/exports/exportschedule/add/"
ADMIN_FORM = {
    "name": "hourly readings",
    "dataset": "readings",
    "format": "csv",
    "filters": "{}",
    "storage": "local",
    "every": "hour",
    "is_active": "on",
    "next_run_at_0": "2026-03-01",
    "next_run_at_1": "00:00:00",
}


@pytest.mark.parametrize("filters", ["[1]", '"abc"', "5", '[["sensor", "A"]]', "[]"])
def test_the_admin_refuses_filters_that_are_not_a_json_object(client, make_user, filters):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    response = client.post(ADMIN_ADD, {**ADMIN_FORM, "filters": filters})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "JSON object" in str(errors["filters"])
    assert not ExportSchedule.objects.exists()


@pytest.mark.parametrize("filters", [[1], "abc", 5, [["sensor", "A"]]])
def test_a_schedule_with_filters_that_are_not_an_object_is_refused_naming_filters(filters):
    with pytest.raises(InvalidInput) as refused:
        make_schedule(filters=filters)
    assert list(refused.value.details) == ["filters"]
    assert not ExportSchedule.objects.exists()


@pytest.mark.parametrize("filters", [[1], "abc", 5, [["sensor", "A"]]])
def test_the_api_refuses_filters_that_are_not_an_object(staff_client, filters):
    body = {"name": "bad", "dataset": "readings", "every": "day", "filters": filters}
    error = assert_error(staff_client.post(URL, body, format="json"), 400)
    assert "filters" in str(error)
    assert not ExportSchedule.objects.exists()


def test_the_api_refuses_a_last_until_in_the_future_that_would_never_run(staff_client):
    body = {"name": "later", "dataset": "readings", "last_until": "9000-01-01T00:00:00Z"}
    error = assert_error(staff_client.post(URL, body, format="json"), 400)
    assert "last_until" in str(error) and "future" in str(error)
    assert not ExportSchedule.objects.exists()
    schedule = make_schedule(next_run_at=T0)
    refused = staff_client.patch(
        f"{URL}{schedule.pk}/", {"last_until": "9000-01-01T00:00:00Z"}, format="json"
    )
    assert "last_until" in str(assert_error(refused, 400))
    schedule.refresh_from_db()
    assert schedule.last_until is None
    # Up to now is fine: the next run starts there.
    ok = staff_client.patch(
        f"{URL}{schedule.pk}/", {"last_until": "2026-03-01T11:00:00Z"}, format="json"
    )
    assert ok.status_code == 200, ok.content


def test_the_admin_refuses_a_last_until_in_the_future_next_to_the_field(client, make_user):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    form = {**ADMIN_FORM, "last_until_0": "9000-01-01", "last_until_1": "00:00:00"}
    response = client.post(ADMIN_ADD, form)
    assert response.status_code == 200
    assert "future" in str(response.context["adminform"].form.errors["last_until"])
    assert not ExportSchedule.objects.exists()
    past = {**ADMIN_FORM, "last_until_0": "2026-02-01", "last_until_1": "00:00:00"}
    assert client.post(ADMIN_ADD, past).status_code == 302


def test_cancelling_an_export_linked_to_a_schedule_without_a_window_leaves_the_schedule(
    staff_user,
):
    schedule = make_schedule(next_run_at=T0, last_until=T0)
    export = services.export_request(dataset="readings", fmt="csv")
    Export.objects.filter(pk=export.pk).update(schedule=schedule)  # e.g. linked by hand
    assert services.export_cancel(export=export, by=staff_user).error == "Cancelled by staff."
    schedule.refresh_from_db()
    assert schedule.last_until == T0
