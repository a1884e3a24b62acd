"""The orjson renderer (long lists of numbers: stats) writes what DRF's JSON renderer writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from targets_site.renderers import PlainJSONRenderer

PLAIN_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))])),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=PLAIN_VALUES)
def test_plain_values_render_to_the_same_json(value):
    fast, drf = PlainJSONRenderer().render(value), JSONRenderer().render(value)
    assert (json.loads(fast) if fast else None) == (json.loads(drf) if drf else None)


def test_a_utc_instant_is_written_with_z_as_drf_writes_it():
    moment = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert PlainJSONRenderer().render([{"start": moment}]) == b'[{"start":"2026-01-01T12:00:00Z"}]'
    assert JSONRenderer().render([{"start": moment}]) == b'[{"start":"2026-01-01T12:00:00Z"}]'


def test_what_orjson_does_not_write_like_drf_goes_to_drf():
    drf = JSONRenderer()
    for value in ([Decimal("1.10")], ["line\u2028break"]):
        assert PlainJSONRenderer().render(value) == drf.render(value)
    indented = "application/json; indent=2"
    assert PlainJSONRenderer().render({"a": 1}, indented) == drf.render({"a": 1}, indented)
