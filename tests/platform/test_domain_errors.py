"""The domain vocabulary (targets_site.errors) reaches clients as the one JSON error shape."""

from __future__ import annotations

import pytest
from django.test import override_settings

from targets_site import errors
from targets_site.exceptions import domain_status
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _failing_views():
    with override_settings(ROOT_URLCONF="tests.platform.urls_for_tests"):
        yield


@pytest.mark.parametrize(
    ("kind", "status", "code", "message", "details"),
    [
        ("invalid", 400, "validation_error", "Invalid input.", {"name": ["Required."]}),
        ("rows", 400, "validation_error", "Invalid input.", {"1": {"value": ["Not a number."]}}),
        ("coded", 400, "points_exceed_hits", "Too many points.", {"points": ["Too many points."]}),
        ("forbidden", 403, "permission_denied", "Not yours.", {}),
        ("missing", 404, "not_found", "No such sensor.", {}),
        ("conflict", 409, "conflict", "Not enough stock.", {}),
        ("gone", 410, "gone", "The file was pruned.", {}),
        ("stale", 412, "precondition_failed", errors.PreconditionFailed.default_message, {}),
        ("large", 413, "payload_too_large", "Too many readings.", {}),
        ("mismatch", 422, "idempotency_mismatch", "Same id, different body.", {}),
        ("down", 503, "service_unavailable", "The cache is down.", {}),
    ],
)
def test_each_domain_error_answers_its_status_code_message_and_details(
    api_client, kind, status, code, message, details
):
    error = assert_error(api_client.get(f"/api/test/domain/{kind}/"), status, code)
    assert error["message"] == message
    assert error["details"] == details


def test_every_kind_of_domain_error_has_a_status():
    kinds = [errors.DomainError, *errors.DomainError.__subclasses__()]
    statuses = {domain_status(kind()) for kind in kinds}
    assert statuses >= {400, 403, 404, 409, 410, 412, 413, 422, 503}


def test_a_domain_error_reads_as_its_message():
    err = errors.Conflict("Stock would go below zero.")
    assert str(err) == "Stock would go below zero."
    assert err.code == "conflict"
    assert errors.Forbidden is errors.PermissionDenied
    assert errors.InvalidInput().details == {}


def test_invalid_input_reads_as_one_line_naming_each_field_or_row():
    assert str(errors.InvalidInput()) == "Invalid input."
    err = errors.InvalidInput(details={"dataset": ["Unknown 'x'."], "format": ["Unknown."]})
    assert str(err) == "dataset: Unknown 'x'.; format: Unknown."
    rows = errors.InvalidInput(details=[{}, {"value": ["Not a number.", "Too big."]}])
    assert str(rows) == "row 1: value: Not a number. Too big."
    assert str(errors.InvalidInput(details={"non_field_errors": ["Empty."]})) == "Empty."
