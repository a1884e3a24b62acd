"""The exports API: staff only, POST records a pending export (202), downloads."""

from __future__ import annotations

import hashlib

import pytest

from exports import services
from exports.models import Export
from tests.exports.factories import make_items
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/exports/"


def test_a_signed_in_user_who_is_not_staff_gets_403_everywhere(user_client, staff_user):
    export = services.export_run(dataset="items", fmt="csv")
    assert_error(user_client.get(URL), 403, "permission_denied")
    assert_error(user_client.post(URL, {"dataset": "items", "format": "csv"}), 403)
    assert_error(user_client.get(f"{URL}{export.pk}/"), 403)
    assert_error(user_client.get(f"{URL}{export.pk}/download/"), 403)
    assert not Export.objects.filter(status="pending").exists()


def test_staff_post_records_a_pending_export_and_answers_202(staff_client, staff_user):
    response = staff_client.post(
        URL,
        {"dataset": "readings", "format": "jsonl", "gzip": True, "filters": {"sensor": "A"}},
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["dataset"] == "readings" and body["format"] == "jsonl" and body["gzip"] is True
    assert body["filters"] == {"sensor": "A"}
    assert body["requested_by"] == "staff"
    assert body["storage"] == "local"
    assert body["download_url"] is None and body["key"] == ""
    assert response["Location"].endswith(f"{URL}{body['id']}/")
    export = Export.objects.get(pk=body["id"])
    assert export.status == "pending" and export.requested_by == staff_user


def test_the_list_is_paginated_newest_first_in_a_fixed_number_of_queries(
    staff_client, staff_user, django_assert_num_queries
):
    for _ in range(3):
        services.export_request(dataset="items", fmt="csv", requested_by=staff_user)
    staff_client.get(URL)  # token lookup caches nothing; warm nothing else either
    with django_assert_num_queries(3):  # token auth, count, page (requested_by joined)
        response = staff_client.get(URL)
    body = response.json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == sorted(
        [row["id"] for row in body["results"]], reverse=True
    )
    assert set(body) == {"count", "next", "previous", "results"}


def test_the_list_filters_by_status_and_dataset(staff_client):
    services.export_request(dataset="items", fmt="csv")
    services.export_run(dataset="readings", fmt="csv")
    assert staff_client.get(URL, {"status": "succeeded"}).json()["count"] == 1
    assert staff_client.get(URL, {"dataset": "items"}).json()["count"] == 1
    # ?format= filters by the export's format (it is not DRF's renderer override here).
    assert staff_client.get(URL, {"format": "csv"}).json()["count"] == 2
    assert staff_client.get(URL, {"format": "jsonl"}).json()["count"] == 0
    assert_error(staff_client.get(URL, {"status": "done"}), 400)


def test_a_finished_export_downloads_as_an_attachment_with_its_hash(staff_client):
    make_items(2)
    export = services.export_run(dataset="items", fmt="csv", compress=True)
    detail = staff_client.get(f"{URL}{export.pk}/").json()
    assert detail["status"] == "succeeded" and detail["rows"] == 2
    assert detail["download_url"].endswith(f"{URL}{export.pk}/download/")

    response = staff_client.get(detail["download_url"], HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == export.sha256 == response["X-Content-SHA256"]
    assert response["Content-Type"] == "application/gzip"
    assert f'filename="{export.filename}"' in response["Content-Disposition"]


@pytest.mark.parametrize("state", ["pending", "running", "failed"])
def test_download_is_409_until_the_export_succeeded(staff_client, state):
    export = Export.objects.create(
        dataset="items", format="csv", storage="local", fingerprint=state, status=state
    )
    error = assert_error(staff_client.get(f"{URL}{export.pk}/download/"), 409, "conflict")
    assert state in error["message"]


def test_download_of_a_file_removed_from_storage_is_410(staff_client, local_exports):
    export = services.export_run(dataset="items", fmt="csv")
    (local_exports / export.key).unlink()
    assert_error(staff_client.get(f"{URL}{export.pk}/download/"), 410, "gone")


def test_an_unknown_export_is_a_json_404(staff_client):
    assert_error(staff_client.get(f"{URL}999999/"), 404)
    assert_error(staff_client.get(f"{URL}999999/download/"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "users", "format": "csv"}, "dataset"),
        ({"dataset": "items", "format": "xml"}, "format"),
        ({"dataset": "items"}, "format"),
        ({"format": "csv"}, "dataset"),
        ({"dataset": 5, "format": "csv"}, "dataset"),
        ({"dataset": ["items"], "format": "csv"}, "dataset"),
        ({"dataset": "items", "format": "csv", "gzip": "maybe"}, "gzip"),
        ({"dataset": "items", "format": "csv", "storage": "ftp"}, "storage"),
        ({"dataset": "items", "format": "csv", "owner": "me"}, "owner"),
        ({"dataset": "items", "format": "csv", "status": "succeeded"}, "status"),
        ({"dataset": "items", "format": "csv", "filters": {"limit": 1}}, "filters"),
        ({"dataset": "items", "format": "csv", "filters": "since=1"}, "filters"),
        ({"dataset": "items", "format": "csv", "filters": {"sensor": "A"}}, "sensor"),
        ({"dataset": "readings", "format": "csv", "filters": {"since": "x" * 65}}, "filters"),
        ({"dataset": "i" * 10_000, "format": "csv"}, "dataset"),
        (
            {
                "dataset": "readings",
                "format": "csv",
                "filters": {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            },
            "until",
        ),
        ({"dataset": "readings", "format": "csv", "filters": {"since": "-1"}}, "since"),
        ({"dataset": "scores", "format": "csv", "filters": {"mode": "nope"}}, "mode"),
    ],
)
def test_bad_requests_are_400_naming_the_field_and_record_nothing(staff_client, body, field):
    error = assert_error(staff_client.post(URL, body), 400)
    assert field in error["details"], error
    assert not Export.objects.exists()


def test_nul_bytes_in_a_body_are_refused(staff_client):
    response = staff_client.post(
        URL, '{"dataset": "items\\u0000", "format": "csv"}', content_type="application/json"
    )
    assert_error(response, 400)
    assert not Export.objects.exists()


def test_a_non_object_body_is_a_400(staff_client):
    assert_error(staff_client.post(URL, "[]", content_type="application/json"), 400)


def test_s3_requested_without_settings_is_a_400_naming_the_variable(staff_client, settings):
    settings.EXPORTS_S3_OPTIONS = {**settings.EXPORTS_S3_OPTIONS, "bucket_name": None}
    error = assert_error(
        staff_client.post(URL, {"dataset": "items", "format": "csv", "storage": "s3"}), 400
    )
    assert "EXPORTS_S3_BUCKET" in error["details"]["storage"][0]


def test_exports_cannot_be_changed_or_deleted_over_the_api(staff_client):
    export = services.export_request(dataset="items", fmt="csv")
    assert_error(staff_client.delete(f"{URL}{export.pk}/"), 405)
    assert_error(staff_client.patch(f"{URL}{export.pk}/", {"status": "succeeded"}), 405)


def test_the_api_root_lists_exports(api_client):
    assert api_client.get("/api/v1/").json()["exports"].endswith(URL)


def test_anonymous_callers_are_asked_to_authenticate(api_client):
    assert_error(api_client.get(URL), 401, "not_authenticated")


def test_a_time_that_does_not_exist_in_utc_is_a_400_not_a_500(staff_client):
    body = {
        "dataset": "readings",
        "format": "csv",
        "filters": {"since": "9999-12-31T23:59:59-23:59"},
    }
    error = assert_error(staff_client.post(URL, body, format="json"), 400)
    assert "since" in error["details"]
    assert not Export.objects.exists()
