"""One strictness for query parameters (targets_site/query.py), on every endpoint using them."""

from __future__ import annotations

import datetime as dt

import pytest

from targets_site.errors import InvalidInput
from targets_site.query import (
    parse_bool,
    parse_datetime,
    parse_int,
    query_bool,
    query_int,
    query_range,
)
from tests.helpers import assert_error

UTC = dt.UTC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("TRUE", True), ("false", False), ("0", False), ("False", False)],
)
def test_a_boolean_is_true_false_1_or_0(raw, expected):
    assert parse_bool(raw) is expected


@pytest.mark.parametrize(
    "raw", ["yes", "no", "on", "off", "t", "f", "y", "2", "-1", " true", "maybe"]
)
def test_every_other_boolean_spelling_is_refused(raw):
    with pytest.raises(ValueError, match="true or false"):
        parse_bool(raw)


def test_an_absent_or_empty_boolean_is_not_given_and_a_bad_one_names_the_parameter():
    assert query_bool({}, "open") is None
    assert query_bool({"open": ""}, "open") is None
    with pytest.raises(InvalidInput) as caught:
        query_bool({"open": "yes"}, "open")
    assert list(caught.value.details) == ["open"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-31T00:00:00Z", dt.datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T01:30:00+01:00", dt.datetime(2026, 1, 31, 0, 30, tzinfo=UTC)),
        ("2026-01-31T00:00:00z", dt.datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31 00:00:00.5+00:00", dt.datetime(2026, 1, 31, 0, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_a_datetime_is_aware_iso_8601_returned_in_utc(raw, expected):
    parsed = parse_datetime(raw)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2026-01-31T00:00:00", "no timezone"),
        ("2026-01-31", "no timezone"),
        ("soon", "ISO 8601"),
        ("", "ISO 8601"),
        ("2026-01-31T00:00:00Z\x00", "ISO 8601"),
        ("9" * 65, "ISO 8601"),
        ("0001-01-01T00:00:00+01:00", "outside the years 1-9999"),
        ("9999-12-31T23:59:59-23:59", "outside the years 1-9999"),
    ],
)
def test_a_naive_malformed_or_overflowing_datetime_is_refused(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_datetime(raw)


def test_a_bare_date_is_midnight_utc_only_where_the_parameter_names_a_day():
    assert parse_datetime("2026-01-31", date_means_midnight_utc=True) == dt.datetime(
        2026, 1, 31, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="no timezone"):
        parse_datetime("2026-01-31")


def test_a_range_names_every_bad_bound_and_refuses_a_reversed_one():
    assert query_range({}) == (None, None)
    with pytest.raises(InvalidInput) as caught:
        query_range({"from": "soon", "to": "2026-01-01T00:00:00"})
    assert set(caught.value.details) == {"from", "to"}
    with pytest.raises(InvalidInput) as caught:
        query_range({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert list(caught.value.details) == ["from"]


@pytest.mark.parametrize("raw", ["x", "-1", "1.5", "1e3", " 5", "٣", "0", "101", "9" * 10])
def test_an_integer_is_plain_digits_within_its_bounds(raw):
    with pytest.raises(ValueError, match="whole number"):
        parse_int(raw, minimum=1, maximum=100)


def test_a_capped_integer_is_clamped_to_its_cap_however_many_digits():
    assert parse_int("101", minimum=1, maximum=100, clamp=True) == 100
    assert parse_int("9" * 40, minimum=1, maximum=100, clamp=True) == 100
    with pytest.raises(ValueError):
        parse_int("0", minimum=1, maximum=100, clamp=True)
    assert query_int({"n": ""}, "n", default=7, minimum=1, maximum=100) == 7


# --- every endpoint uses the same spellings --------------------------------------------------

BOOLEAN_QUERIES = [
    ("/api/v1/items/", "in_stock"),
    ("/api/v1/items/", "is_active"),
    ("/api/v1/sensors/A/alerts/", "open"),
    ("/api/v1/leaderboards/bullseye/", "verified"),
]


@pytest.fixture
def sensor_a(db):
    from tests.sensors.factories import SensorFactory

    return SensorFactory(code="A")


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), BOOLEAN_QUERIES)
@pytest.mark.parametrize("value", ["true", "false", "1", "0", "True", ""])
def test_every_boolean_filter_accepts_the_same_spellings(api_client, sensor_a, url, name, value):
    assert api_client.get(url, {name: value}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), BOOLEAN_QUERIES)
@pytest.mark.parametrize("value", ["yes", "no", "on", "maybe"])
def test_every_boolean_filter_refuses_the_same_spellings(api_client, sensor_a, url, name, value):
    error = assert_error(api_client.get(url, {name: value}), 400, "validation_error")
    assert list(error["details"]) == [name]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/readings/", "from"),
        ("/api/v1/sensors/A/breaches/", "to"),
        ("/api/v1/sensors/A/alerts/", "from"),
        ("/api/v1/sensors/A/stats/", "to"),
    ],
)
@pytest.mark.parametrize("value", ["2026-01-01T00:00:00", "2026-01-01", "yesterday"])
def test_every_datetime_query_refuses_naive_and_malformed_times(
    api_client, sensor_a, url, name, value
):
    error = assert_error(api_client.get(url, {name: value}), 400, "validation_error")
    assert list(error["details"]) == [name]
