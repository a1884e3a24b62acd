"""The orjson request parser (the readings ingest) against the standard one (every other body)."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from targets_site.errors import TooLarge
from targets_site.parsers import (
    MAX_JSON_DEPTH,
    JSONParser,
    PlainJSONParser,
    json_depth_exceeds,
)


def parse(parser_class, body: bytes):
    return parser_class().parse(io.BytesIO(body), parser_context={})


def outcome(parser_class, body: bytes):
    """("ok", data) or ("refused", the error's class and message)."""
    try:
        return "ok", parse(parser_class, body)
    except (ParseError, TooLarge) as exc:
        return "refused", (type(exc), str(exc))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_both_parsers_read_any_document_within_64_bit_integers_alike(value, ascii_only):
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert outcome(PlainJSONParser, body) == outcome(JSONParser, body)


@pytest.mark.parametrize(
    "body",
    [
        b"[NaN]",
        b"[-Infinity]",
        b'{"a": 1,}',
        b"[1] x",
        b"\xef\xbb\xbf[1]",
        b'["\xff"]',
        b'["a\\u0000"]',
        b'{"k\\u0000": 1}',
        b'["\\\\u0000"]',
        b"[1e999]",
        b'["\\ud800"]',
        b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
        b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
        b"[" * 5000 + b"]" * 5000,
        b'{"a": ' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1),
        b"",
    ],
)
def test_both_parsers_refuse_and_accept_the_same_unusual_bodies(body):
    # What orjson refuses goes to the standard decoder: the same data or the same message.
    assert outcome(PlainJSONParser, body) == outcome(JSONParser, body)


def test_an_integer_beyond_64_bits_arrives_as_the_nearest_float():
    assert parse(PlainJSONParser, b"[18446744073709551616]") == [float(2**64)]
    assert parse(JSONParser, b"[18446744073709551616]") == [2**64]


def test_only_the_standard_parser_marks_objects_for_strict_serializers():
    assert type(parse(JSONParser, b'[{"a": 1}]')[0]).__name__ == "JSONObject"
    assert type(parse(PlainJSONParser, b'[{"a": 1}]')[0]) is dict


def _depth(value) -> int:
    """Nesting depth, recursively: the plain reference for the level-by-level walk."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, limit=st.integers(min_value=1, max_value=6))
def test_the_depth_walk_agrees_with_a_recursive_count(value, limit):
    assert json_depth_exceeds(value, limit) == (_depth(value) > limit)
