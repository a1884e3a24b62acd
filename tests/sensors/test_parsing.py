"""The reading parser (``sensors/parsing.py``): its fast paths against its rules, no database.

The differential tests feed the same rows to the fast path (``readings_from_json``,
``readings_from_csv``) and to the reference path (``reading_from_json``, ``reading_from_csv``):
every row must be accepted by both as the same reading, or refused by both with the same errors.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sensors.parsing import (
    MAX_BATCH,
    MISSING,
    _json_fast,
    reading_from_csv,
    reading_from_json,
    reading_json_schema,
    reading_parse,
    readings_from_csv,
    readings_from_json,
)
from targets_site.errors import InvalidInput, TooLarge

# "-probe" is a code the CSV export escapes ('-probe); "'q" one only the ORM can store.
KNOWN = {"A": 1, "B": 2, "temp.hall-1": 3, "-probe": 4, "'q": 5}

# --- What rows are made of ------------------------------------------------------------------

offsets = st.one_of(
    st.just(UTC),
    st.integers(min_value=-(24 * 3600 - 1), max_value=24 * 3600 - 1).map(
        lambda s: timezone(timedelta(seconds=s))  # whole seconds: "+05:30:15"
    ),
    st.integers(min_value=-23 * 60, max_value=23 * 60).map(
        lambda m: timezone(timedelta(minutes=m))
    ),
)
aware = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
)
edge_years = st.sampled_from(
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "0001-01-01T05:00:00+01:00",
        "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
        "9999-12-31T20:00:00+05:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
    ]
)


def iso_styles(moment: datetime) -> st.SearchStrategy[str]:
    text = moment.isoformat()
    return st.sampled_from(
        [
            text,
            text.replace("+00:00", "Z"),
            text.replace("T", " "),
            moment.replace(tzinfo=None).isoformat(),  # naive
            moment.isoformat(timespec="milliseconds"),
            text + "\x00",  # fromisoformat itself takes a trailing NUL
            text[:19] + "." + "0" * 60 + text[19:].lstrip(".0123456789"),  # over 64 characters
            " " + text,
            text + " ",
            moment.strftime("%Y%m%dT%H%M%S") + "Z",
        ]
    )


timestamp_texts = st.one_of(
    aware.flatmap(iso_styles),
    edge_years,
    st.text(max_size=30),
    st.text(alphabet="0123456789-:TZ+. \x00", max_size=40),
)
timestamps = st.one_of(
    timestamp_texts,
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
json_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.integers(min_value=2**53 - 2, max_value=2**53 + 2),
    st.sampled_from([10**400, -(10**400), 2**1023 * 2 - 1, 0, -0.0, 5e-324]),
    st.booleans(),
    st.none(),
    st.text(max_size=10),
    st.lists(st.floats(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
codes = st.one_of(
    st.sampled_from([*KNOWN, " A", "A ", "a", "NOPE", "A\x00", "x" * 10_000]),
    st.text(max_size=8),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=2), max_size=2),
)


@st.composite
def json_rows(draw: st.DrawFn, *, sensor_in_body: bool = True) -> object:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.text(max_size=5), st.integers(), st.none(), st.lists(st.none())))
    row: dict[str, Any] = {}
    fields = {"timestamp": timestamps, "value": json_values}
    if sensor_in_body:
        fields = {"sensor": codes, **fields}
    for name, values in fields.items():
        if draw(st.integers(0, 15)) > 0:  # now and then a field is missing
            row[name] = draw(values)
    if draw(st.integers(0, 15)) == 0:
        row[draw(st.sampled_from(["id", "sensor", "extra", "Value"]))] = draw(json_values)
    return row


def text_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers().map(str),
        st.sampled_from(
            ["nan", "-inf", "Infinity", "1e400", " 1.5 ", "1_000", "0x10", "1\x00", "", "ten", "٣"]
        ),
        st.text(max_size=8),
    )


csv_lines = st.one_of(
    st.tuples(
        timestamp_texts,
        st.one_of(
            st.sampled_from(
                [*KNOWN, " A", "B ", "NOPE", "A\x00", "'-probe", " '-probe", "''q", "'-nope", "'A"]
            ),
            st.text(max_size=5),
        ),
        text_values(),
    ).map(list),
    st.lists(st.text(max_size=6), max_size=5),
)


# --- The two paths side by side -------------------------------------------------------------


def outcome(parse) -> tuple[str, Any]:
    """``("ok", reading)`` or ``("invalid", details)``: what a caller (and a user) would see."""
    try:
        sensor_id, timestamp, value = parse()
    except InvalidInput as exc:
        return "invalid", exc.details
    assert isinstance(value, float) and math.isfinite(value)
    assert timestamp.tzinfo is not None
    # The same instant whatever the offset it arrived with.
    return "ok", (sensor_id, timestamp.astimezone(UTC), value)


def batch_outcome(parse) -> tuple[str, Any]:
    try:
        rows = parse()
    except InvalidInput as exc:
        return "invalid", exc.details
    return "ok", [(sensor_id, ts.astimezone(UTC), value) for sensor_id, ts, value in rows]


def reference_batch(batch: list[object], sensor: str | None = None) -> tuple[str, Any]:
    each = [
        outcome(lambda row=row: reading_from_json(row, known=KNOWN, sensor=sensor)) for row in batch
    ]
    if all(kind == "ok" for kind, _ in each):
        return "ok", [reading for _, reading in each]
    return "invalid", [details if kind == "invalid" else {} for kind, details in each]


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(json_rows(), min_size=1, max_size=4))
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z\x00", "value": 1.0}])
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00." + "0" * 50 + "Z", "value": 1.0}])
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00", "value": 1.0}])
@example([{"sensor": "A", "timestamp": "2026-01-01T05:30:15+05:30:15", "value": 1}])
@example([{"sensor": "A", "timestamp": "0001-01-01T00:30:00+01:00", "value": 1}])
@example([{"sensor": "A", "timestamp": "9999-12-31T23:00:00-05:00", "value": 1}])
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": math.nan}])
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": -math.inf}])
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": 10**400}])
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": True}])
@example([{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": "1.5"}])
@example([{"sensor": 1, "timestamp": "2026-01-01T00:00:00Z", "value": 1.5}])
@example([{"sensor": "A\x00", "timestamp": "2026-01-01T00:00:00Z", "value": 1.5}])
def test_the_json_fast_path_accepts_and_refuses_exactly_what_the_rules_do(batch):
    fast = batch_outcome(lambda: readings_from_json(batch, known=KNOWN))
    assert fast == reference_batch(batch)


@FUZZ
@given(json_rows().filter(lambda row: isinstance(row, dict)))
def test_one_reading_object_gets_the_rules_answer_keyed_by_field(row):
    fast = batch_outcome(lambda: readings_from_json(row, known=KNOWN))
    kind, reading_or_details = outcome(lambda: reading_from_json(row, known=KNOWN))
    assert fast == (kind, [reading_or_details] if kind == "ok" else reading_or_details)


@pytest.mark.parametrize(
    ("document", "error", "code"),
    [
        ([], InvalidInput, "validation_error"),
        ("text", InvalidInput, "validation_error"),
        (None, InvalidInput, "validation_error"),
        ([{}] * (MAX_BATCH + 1), TooLarge, "batch_too_large"),
    ],
)
def test_a_document_of_the_wrong_shape_or_size_is_refused_as_a_whole(document, error, code):
    with pytest.raises(error) as caught:
        readings_from_json(document, known=KNOWN)
    assert caught.value.code == code


@FUZZ
@given(
    st.lists(json_rows(sensor_in_body=False), min_size=1, max_size=4),
    st.sampled_from([*KNOWN, "NOPE"]),
)
def test_messages_with_the_sensor_from_their_topic_follow_the_same_rules(batch, sensor):
    fast = batch_outcome(lambda: readings_from_json(batch, known=KNOWN, sensor=sensor))
    assert fast == reference_batch(batch, sensor)


def reference_csv(lines: list[list[str]]) -> tuple[str, Any]:
    each = []
    for cells in lines:
        try:
            reading = reading_from_csv(cells, known=KNOWN)
        except InvalidInput as exc:
            each.append(("invalid", exc.message))
        else:
            each.append(outcome(lambda reading=reading: reading))
    if all(kind == "ok" for kind, _ in each):
        return "ok", [reading for _, reading in each]
    return "invalid", [message if kind == "invalid" else {} for kind, message in each]


@FUZZ
@given(st.lists(csv_lines, min_size=1, max_size=4))
@example([["2026-01-01T00:00:00Z\x00", "A", "1"]])
@example([["2026-01-01T00:00:00." + "0" * 50 + "Z", "A", "1"]])
@example([["2026-01-01T00:00:00", "A", "1"]])
@example([["9999-12-31T23:00:00-05:00", "A", "1"]])
@example([["2026-01-01T00:00:00Z", "A", "nan"]])
@example([["2026-01-01T00:00:00Z", "A", "-Infinity"]])
@example([["2026-01-01T00:00:00Z", "A", "1e400"]])
@example([["2026-01-01T00:00:00Z", " A ", " 2.5 "]])
@example([["2026-01-01T00:00:00Z", "A", "1\x00"]])
def test_the_csv_fast_path_accepts_and_refuses_exactly_what_the_rules_do(lines):
    fast = batch_outcome(lambda: readings_from_csv(lines, known=KNOWN))
    assert fast == reference_csv(lines)


# --- The fast path is the common path ---------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(KNOWN)),
            # Years 1 and 9999 may leave the calendar in UTC: the rules check those.
            st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31), timezones=offsets),
            st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**9), 10**9),
        ),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
)
def test_well_formed_rows_take_the_fast_path(rows, zulu):
    def stamp(moment: datetime) -> str:
        text = moment.isoformat()
        return text.removesuffix("+00:00") + "Z" if zulu and text.endswith("+00:00") else text

    batch = [{"sensor": code, "timestamp": stamp(ts), "value": value} for code, ts, value in rows]
    parsed = _json_fast(batch, KNOWN, None)
    assert parsed is not None
    assert [(sid, ts, value) for sid, ts, value in parsed] == [
        (KNOWN[code], ts, float(value)) for code, ts, value in rows
    ]


# --- The rules, spelt out ---------------------------------------------------------------------


def errors_of(**fields: object) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as caught:
        reading_parse(
            known=KNOWN,
            **{"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": 1.0, **fields},
        )
    return caught.value.details


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"timestamp": "2026-01-01T00:00:00"}, "timestamp", "no timezone"),
        ({"timestamp": "2026-01-01T00:00:00Z\x00"}, "timestamp", "ISO-8601 string"),
        ({"timestamp": "2026-01-01T00:00:00." + "0" * 50 + "Z"}, "timestamp", "ISO-8601 string"),
        ({"timestamp": "9999-12-31T23:00:00-05:00"}, "timestamp", "out of range"),
        ({"timestamp": 1767225600}, "timestamp", "string"),
        ({"timestamp": MISSING}, "timestamp", "required"),
        ({"value": math.nan}, "value", "finite"),
        ({"value": math.inf}, "value", "finite"),
        ({"value": 10**400}, "value", "out of range"),
        ({"value": True}, "value", "number"),
        ({"value": None}, "value", "null"),
        ({"value": "1.5"}, "value", "number"),
        ({"sensor": "NOPE"}, "sensor", "Unknown sensor code 'NOPE'"),
        ({"sensor": 7}, "sensor", "string"),
    ],
)
def test_each_rule_names_its_field(fields, field, fragment):
    errors = errors_of(**fields)
    assert list(errors) == [field]
    assert fragment in errors[field][0]


def test_every_bad_field_of_a_reading_is_reported_at_once():
    errors = errors_of(sensor="NOPE", timestamp="yesterday", value=math.nan)
    assert list(errors) == ["sensor", "timestamp", "value"]


def test_an_offset_with_seconds_is_kept_to_the_second():
    sensor_id, timestamp, value = reading_parse(
        sensor="A", timestamp="2026-01-01T05:30:15+05:30:15", value=2, known=KNOWN
    )
    assert (sensor_id, timestamp, value) == (1, datetime(2026, 1, 1, tzinfo=UTC), 2.0)


def test_a_csv_line_reports_every_bad_field_in_one_message():
    with pytest.raises(InvalidInput) as caught:
        reading_from_csv(["2026-01-01T00:00:00", "NOPE", "ten"], known=KNOWN)
    assert caught.value.message == (
        "Unknown sensor code 'NOPE'. "
        "Timestamp has no timezone; add a UTC offset such as 'Z' or '+00:00'. "
        "Not a number: 'ten'."
    )


def test_a_csv_sensor_code_escaped_against_formulas_is_read_as_the_code():
    # As the CSV export writes "-probe" and "'q"; "'A" is not an escape, so it is no code here.
    lines = [
        ["2026-01-01T00:00:00Z", "'-probe", "1"],
        ["2026-01-01T00:00:00Z", "''q", "2"],
        ["2026-01-01T00:00:00Z", "-probe", "3"],
    ]
    assert [sensor_id for sensor_id, _, _ in readings_from_csv(lines, known=KNOWN)] == [4, 5, 4]
    with pytest.raises(InvalidInput) as caught:
        reading_from_csv(["2026-01-01T00:00:00Z", "'A", "1"], known=KNOWN)
    assert caught.value.message == 'Unknown sensor code "\'A".'


def test_a_message_naming_its_own_sensor_is_refused():
    # The topic names the sensor; a body that names one too is refused, saying so.
    with pytest.raises(InvalidInput) as caught:
        reading_from_json(
            {"sensor": "B", "timestamp": "2026-01-01T00:00:00Z", "value": 1},
            known=KNOWN,
            sensor="A",
        )
    assert caught.value.details == {"sensor": ["The topic names the sensor; leave it out."]}


def test_the_api_schema_of_a_reading_lists_the_fields_the_rules_read():
    schema = reading_json_schema()
    assert schema["required"] == ["sensor", "timestamp", "value"]
    assert schema["additionalProperties"] is False
    assert reading_json_schema(sensor_in_body=False)["required"] == ["timestamp", "value"]
