"""Export runs through the service, to local storage: files, records, keys, failures, locks."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone

from exports import formats, services
from exports.models import Export
from exports.pipeline.produce import uses_postgres_copy
from exports.services import runs
from sensors.models import Alert
from targets_site.errors import InvalidInput
from tests.exports.factories import T0, make_items, make_readings

pytestmark = pytest.mark.django_db

KEY_PATTERN = re.compile(
    r"^exports/(?P<ds>[a-z]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P=ds)-\d{8}T\d{6}Z-(?P<id>\d+)\.(?P<ext>.+)$"
)


def stored(root: Path, export: Export) -> bytes:
    return (root / export.key).read_bytes()


def run(**request) -> Export:
    request.setdefault("fmt", "csv")
    return services.export_run(**request)


def test_a_csv_export_of_items_is_stored_under_a_dated_key_with_its_counts(local_exports):
    make_items(3)
    export = run(dataset="items")

    assert export.status == "succeeded", export.error
    match = KEY_PATTERN.match(export.key)
    assert match and match["ds"] == "items" and match["id"] == str(export.pk)
    assert match["ext"] == "csv"
    assert (match["y"], match["m"]) == (f"{export.started_at:%Y}", f"{export.started_at:%m}")
    data = stored(local_exports, export)
    assert export.rows == 3
    assert export.bytes == len(data)
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    parsed = list(csv.DictReader(io.StringIO(data.decode())))
    assert [row["sku"] for row in parsed] == ["ITEM-000001", "ITEM-000002", "ITEM-000003"]
    assert parsed[0]["price"] == "11.50"
    assert parsed[0]["is_active"] == "true"
    assert export.started_at <= export.finished_at and export.duration_ms is not None


def test_formula_like_item_names_are_escaped_in_csv_but_not_in_json(local_exports):
    make_items(1, name_prefix="=cmd|' /C calc'!A0")
    csv_export = run(dataset="items")
    json_export = run(dataset="items", fmt="json")
    csv_row = next(csv.DictReader(io.StringIO(stored(local_exports, csv_export).decode())))
    assert csv_row["name"].startswith("'=cmd")
    assert json.loads(stored(local_exports, json_export))[0]["name"].startswith("=cmd")


def test_readings_export_as_json_lines_gzipped_with_filters(local_exports):
    make_readings("A", 30)
    make_readings("B", 5)
    export = run(
        dataset="readings",
        fmt="jsonl",
        compress=True,
        filters={"sensor": "A", "since": "2026-03-01T12:10:00Z", "until": "2026-03-01T12:20:00Z"},
    )
    assert export.status == "succeeded", export.error
    assert export.key.endswith(".jsonl.gz")
    raw = stored(local_exports, export)
    assert export.sha256 == hashlib.sha256(raw).hexdigest()
    lines = [json.loads(line) for line in gzip.decompress(raw).decode().splitlines()]
    assert export.rows == len(lines) == 10
    assert lines[0] == {"sensor": "A", "timestamp": "2026-03-01T12:10:00Z", "value": 60}
    assert export.filters == {
        "sensor": "A",
        "since": "2026-03-01T12:10:00Z",
        "until": "2026-03-01T12:20:00Z",
    }


def test_every_dataset_exports(local_exports, make_user):
    from tests.games.factories import PlayerFactory, make_score

    make_items(2)
    sensor = make_readings("A", 3, high_threshold=65.0)
    Alert.objects.create(sensor=sensor, kind="high", opened_at=T0, peak_value=70.0, reading_count=2)
    make_score(PlayerFactory(username="ann"), points=180, mode="bullseye")
    expected = {"items": 2, "sensors": 1, "readings": 3, "alerts": 1, "scores": 1}
    for dataset, count in expected.items():
        export = run(dataset=dataset, fmt="json")
        assert export.status == "succeeded", (dataset, export.error)
        assert export.rows == count == len(json.loads(stored(local_exports, export)))
    alert = json.loads(stored(local_exports, run(dataset="alerts", fmt="json")))[0]
    assert alert["sensor"] == "A" and alert["closed_at"] is None and alert["kind"] == "high"
    score = json.loads(stored(local_exports, run(dataset="scores", fmt="json")))[0]
    assert score["player"] == "ann" and score["points"] == 180


def test_scores_can_be_filtered_by_mode(local_exports):
    from tests.games.factories import PlayerFactory, make_score

    player = PlayerFactory(username="bob")
    make_score(player, points=100, mode="bullseye")
    make_score(player, points=50, mode="moving")
    export = run(dataset="scores", fmt="json", filters={"mode": "moving"})
    assert [row["mode"] for row in json.loads(stored(local_exports, export))] == ["moving"]


def test_an_empty_result_is_a_valid_file_with_zero_rows(local_exports):
    export = run(dataset="readings", fmt="json")
    assert export.status == "succeeded"
    assert export.rows == 0
    assert stored(local_exports, export) == b"[]\n"  # as the Python writer writes it


def test_keys_are_never_reused_even_for_the_same_export_in_the_same_second(local_exports):
    make_items(1)
    first, second = run(dataset="items"), run(dataset="items")
    assert first.key != second.key
    assert (local_exports / first.key).exists() and (local_exports / second.key).exists()


def test_an_exception_half_way_leaves_no_file_and_records_the_reason(
    local_exports, monkeypatch, python_writer
):
    make_readings("A", 50)
    real = formats.json_text
    calls = {"n": 0}

    def failing(value):
        calls["n"] += 1
        if calls["n"] > 40:
            raise RuntimeError("disk went away")
        return real(value)

    monkeypatch.setattr(formats, "json_text", failing)
    export = run(dataset="readings", fmt="jsonl")

    assert export.status == "failed"
    assert export.error == "RuntimeError: disk went away"
    assert export.finished_at is not None
    assert not (local_exports / export.key).exists()
    leftovers = [p for p in local_exports.rglob("*") if p.is_file()]
    assert leftovers == []


def test_a_failure_after_the_file_was_stored_removes_it(local_exports, monkeypatch):
    make_items(2)
    from django.db.models import QuerySet

    real_update = QuerySet.update

    def update(self, **kwargs):
        if kwargs.get("status") == "succeeded":
            raise RuntimeError("database went away while recording")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    export = run(dataset="items")
    assert export.status == "failed"
    assert "database went away" in export.error
    assert [p for p in local_exports.rglob("*") if p.is_file()] == []


def test_an_existing_file_at_the_key_is_never_overwritten(local_exports, monkeypatch):
    make_items(1)
    taken = "exports/items/taken.csv"
    (local_exports / "exports/items").mkdir(parents=True)
    (local_exports / taken).write_bytes(b"someone else's file")
    monkeypatch.setattr(runs, "export_key", lambda export: taken)
    export = run(dataset="items")
    assert export.status == "failed"
    assert "exists already" in export.error
    assert (local_exports / taken).read_bytes() == b"someone else's file"


def test_a_second_run_of_the_same_export_does_not_start_while_one_is_running():
    make_items(1)
    running = services.export_start(dataset="items", fmt="csv")
    with pytest.raises(services.ExportAlreadyRunning, match=f"#{running.pk}"):
        services.export_start(dataset="items", fmt="csv")
    assert Export.objects.count() == 1
    # A different export (another format) is not blocked.
    other = services.export_start(dataset="items", fmt="json")
    assert other.status == "running"
    services.export_execute(export=running)
    assert services.export_start(dataset="items", fmt="csv").status == "running"


def test_a_run_whose_worker_died_stops_blocking_once_its_lease_expired():
    stuck = services.export_start(dataset="items", fmt="csv")
    Export.objects.filter(pk=stuck.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    fresh = services.export_start(dataset="items", fmt="csv")
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "stopped renewing the lease" in stuck.error
    assert fresh.status == "running"


@pytest.mark.parametrize(
    ("request_kwargs", "field", "message"),
    [
        ({"dataset": "users"}, "dataset", "Unknown dataset 'users'"),
        ({"dataset": "items", "fmt": "xml"}, "format", "Unknown format 'xml'"),
        ({"dataset": "items", "storage": "ftp"}, "storage", "Unknown storage"),
        (
            {"dataset": "readings", "filters": {"since": "2026-02-01", "until": "2026-01-01"}},
            "until",
            "must be after",
        ),
        ({"dataset": "readings", "filters": {"since": "yesterday"}}, "since", "ISO 8601"),
        ({"dataset": "readings", "filters": {"since": "2026-01-01T00:00:00"}}, "since", "offset"),
        ({"dataset": "readings", "filters": {"since": 5}}, "since", "string"),
        ({"dataset": "readings", "filters": {"since": "2026-01-01\x00"}}, "since", "ISO"),
        ({"dataset": "items", "filters": {"sensor": "A"}}, "sensor", "has no 'sensor' filter"),
        ({"dataset": "scores", "filters": {"mode": "snake"}}, "mode", "Unknown mode"),
        ({"dataset": "readings", "filters": {"sensor": "x" * 51}}, "sensor", "at most 50"),
        ({"dataset": "readings", "filters": {"limit": 5}}, "limit", "Unknown filter"),
        (
            {"dataset": "readings", "filters": {"since": "9999-12-31T23:59:59-23:59"}},
            "since",
            "outside the years 1-9999",
        ),
        ({"dataset": "readings", "fmt": "parquet", "compress": True}, "gzip", "Parquet"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_recorded(request_kwargs, field, message):
    request_kwargs.setdefault("fmt", "csv")
    with pytest.raises(InvalidInput) as caught:
        services.export_run(**request_kwargs)
    assert message in " ".join(caught.value.details[field])
    assert not Export.objects.exists()


def test_s3_storage_without_settings_names_the_missing_variable(settings):
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": None}
    with pytest.raises(InvalidInput) as caught:
        services.export_run(dataset="items", fmt="csv", storage="s3")
    assert "EXPORTS_S3_BUCKET" in caught.value.details["storage"][0]


def test_s3_storage_with_a_key_id_but_no_secret_names_the_secret(settings):
    settings.EXPORTS_S3_OPTIONS = {
        **settings.EXPORTS_S3_OPTIONS,
        "bucket_name": "b",
        "access_key": "id",
        "secret_key": None,
    }
    with pytest.raises(InvalidInput) as caught:
        services.export_run(dataset="items", fmt="csv", storage="s3")
    message = caught.value.details["storage"][0]
    assert "AWS_SECRET_ACCESS_KEY" in message and "AWS_ACCESS_KEY_ID" not in message


def test_prune_deletes_old_files_and_records_together_and_keeps_recent_ones(local_exports):
    make_items(1)
    old, recent = run(dataset="items"), run(dataset="items")
    failed_old = Export.objects.create(
        dataset="items", format="csv", storage="local", fingerprint="f", status="failed"
    )
    pending_old = Export.objects.create(
        dataset="items", format="csv", storage="local", fingerprint="g", status="pending"
    )
    long_ago = timezone.now() - dt.timedelta(days=40)
    Export.objects.filter(pk__in=[old.pk, failed_old.pk, pending_old.pk]).update(
        created_at=long_ago
    )

    result = services.exports_prune(keep_days=30)

    assert result.deleted == 2 and result.failed == []
    assert not (local_exports / old.key).exists()
    assert (local_exports / recent.key).exists()
    assert set(Export.objects.values_list("pk", flat=True)) == {recent.pk, pending_old.pk}


@pytest.mark.postgres
def test_on_postgresql_the_copy_path_writes_the_same_bytes_as_the_python_path(local_exports):
    from django.contrib.auth import get_user_model

    from sensors.models import Reading

    make_items(2, name_prefix="-dash")
    sensor = make_readings("=A", 20, high_threshold=60.0)
    Reading.objects.create(
        sensor=sensor, timestamp=T0 + dt.timedelta(days=1, microseconds=120), value=-1.25e-7
    )
    Reading.objects.create(sensor=sensor, timestamp=T0 + dt.timedelta(days=2), value=65.0)
    user = get_user_model().objects.create(username="@ack")
    Alert.objects.create(
        sensor=sensor,
        kind="high",
        opened_at=T0,
        closed_at=T0 + dt.timedelta(minutes=3),
        peak_value=69.5,
        reading_count=3,
        acknowledged_by=user,
        acknowledged_at=T0 + dt.timedelta(minutes=5),
    )
    Reading.objects.create(sensor=sensor, timestamp=T0 + dt.timedelta(days=3), value=1234567.0e9)
    from decimal import Decimal

    from items.models import Item

    Item.objects.create(
        sku="ODD-1",
        name='tab\there "quoted" \\ back\u0001slash, é 🎯\nline',
        description="",
        price=Decimal("0.05"),
        stock_quantity=0,
        is_active=False,
    )
    Item.objects.create(sku="Q-1", name="'quoted", description="'=not a formula", price=1)
    from tests.games.factories import PlayerFactory, make_score

    make_score(PlayerFactory(username="=ann"), points=180, mode="bullseye")
    assert uses_postgres_copy()
    for dataset in ("items", "sensors", "readings", "alerts", "scores"):
        for fmt, compress in [
            ("csv", False),
            ("csv", True),
            ("json", False),
            ("jsonl", False),
            ("jsonl", True),
        ]:
            fast = services.export_run(dataset=dataset, fmt=fmt, compress=compress)
            slow = services.export_start(dataset=dataset, fmt=fmt, compress=compress)
            slow = services.export_execute(export=slow, force_python=True)
            assert fast.status == slow.status == "succeeded", (fast.error, slow.error)
            fast_bytes, slow_bytes = stored(local_exports, fast), stored(local_exports, slow)
            if compress:
                # Same text; deflate's block layout depends on how the input was fed to it.
                fast_bytes, slow_bytes = gzip.decompress(fast_bytes), gzip.decompress(slow_bytes)
            else:
                assert fast.sha256 == slow.sha256
            assert fast_bytes == slow_bytes, (dataset, fmt)
            assert fast.rows == slow.rows
    readings = stored(local_exports, services.export_run(dataset="readings", fmt="csv"))
    assert b"'=A,2026-03-02 12:00:00.00012+00,-1.25e-07\n" in readings


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_the_middle_of_copy_fails_the_export_and_leaves_no_file(
    local_exports, monkeypatch
):
    from django.db import connection

    make_readings("A", 30_000)
    from exports.pipeline import produce

    real_copy = produce.copy_into

    def copy_with_a_tiny_timeout(*args, **kwargs):
        # The server cancels the COPY part-way: a real database failure, not a simulated one.
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 5")
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(produce, "copy_into", copy_with_a_tiny_timeout)
    export = services.export_run(dataset="readings", fmt="csv")
    assert export.status == "failed"
    assert "statement timeout" in export.error
    assert [p for p in local_exports.rglob("*") if p.is_file()] == []
    # The connection dropped mid-COPY was replaced: the next export works (without the timeout).
    monkeypatch.setattr(produce, "copy_into", real_copy)
    assert services.export_run(dataset="readings", fmt="csv").rows == 30_000


@pytest.mark.postgres
def test_on_postgresql_edge_values_export_the_same_bytes_by_copy_as_by_the_python_path(
    local_exports,
):
    from sensors.models import Reading, Sensor

    # Validators do not run on create(): codes the API refuses can still be in the table.
    odd = Sensor.objects.create(code='q"uo\\te\u0001\t\n é 🎯', name="odd")
    plain = make_readings("P", 0)
    for code in ("9lives", " lead", "+plus", "\rcr", "\tab", "Ünï", "@at", "A", "'q", "''", "'=q"):
        Sensor.objects.create(code=code, name=code, unit="")
    times = [
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
        dt.datetime(999, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 12, 0, 0, 10, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 12, 0, 0, 120000, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 12, 0, 0, 999999, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    ]
    values = [-0.0, 1.7976931348623157e308, 5e-324, -1e15, 123456789012345.6, 1e-4, 0.1]
    Reading.objects.bulk_create(
        Reading(sensor=sensor, timestamp=when, value=value)
        for sensor in (odd, plain)
        for when, value in zip(times, values, strict=True)
    )
    Alert.objects.create(sensor=odd, kind="high", opened_at=times[0], reading_count=1)
    assert uses_postgres_copy()
    cases = [(dataset, {}) for dataset in ("readings", "alerts", "sensors")] + [
        ("readings", {"sensor": "P"}),
        ("readings", {"since": "2026-01-01T00:00:00Z"}),
    ]
    for dataset, filters in cases:
        for fmt in ("csv", "json", "jsonl"):
            fast = services.export_run(dataset=dataset, fmt=fmt, filters=filters)
            slow = services.export_start(dataset=dataset, fmt=fmt, filters=filters)
            slow = services.export_execute(export=slow, force_python=True)
            assert fast.status == slow.status == "succeeded", (fast.error, slow.error)
            assert stored(local_exports, fast) == stored(local_exports, slow), (dataset, fmt)
            assert fast.sha256 == slow.sha256
            assert fast.rows == slow.rows > 0
    sensors_csv = stored(local_exports, services.export_run(dataset="sensors", fmt="csv"))
    assert b"\n''q,''q," in sensors_csv  # text that starts with a quote gets one more
    assert b"\n''','''," in sensors_csv
    lines = stored(local_exports, services.export_run(dataset="readings", fmt="jsonl"))
    first = json.loads(lines.splitlines()[0])
    assert first["timestamp"] == "0001-01-01T00:00:00Z"
    assert first["sensor"] == odd.code


@pytest.mark.postgres
@pytest.mark.parametrize(
    "literal",
    [
        "0001-01-01 00:00:00+00",
        "0001-12-31 23:59:59.5+00 BC",
        "4713-01-01 00:00:00+00 BC",
        "9999-12-31 23:59:59.999999+00",
        "10000-01-01 00:00:00.01+00",
        "294276-12-31 23:59:59+00",
        "infinity",
        "-infinity",
    ],
)
def test_a_time_is_written_in_json_as_to_json_writes_it_with_z_for_any_timestamptz(literal):
    # Times Python cannot hold (BC, past 9999, infinity) never reach the Python writer; the COPY
    # SQL writes them as PostgreSQL's to_json does, "+00:00" made "Z".
    from django.db import connection

    from exports.datasets import sql

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT '\"' || {sql._DATETIME_SQL.format('%s::timestamptz')} || '\"', "
            "replace(to_json(%s::timestamptz)::text, '+00:00\"', 'Z\"')",
            [literal] * 5,
        )
        written, reference = cursor.fetchone()
    assert written == reference
