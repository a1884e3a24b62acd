"""The fast ``shots`` field against the DRF nested serializer it replaces: same verdicts."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from games.serializers import ShotListField, ShotSerializer

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-20_000, max_value=20_000),
    st.floats(min_value=-20_000, max_value=20_000),
    st.sampled_from([math.nan, math.inf, -math.inf, 10_000.0, -10_000.5]),
    st.sampled_from(["1", "", "x", [], {}]),
    st.integers(min_value=-2, max_value=9),
)
shots = st.one_of(
    st.fixed_dictionaries(
        {"x": values, "y": values, "hit": values, "ring": values},
        optional={"extra": values},
    ),
    st.fixed_dictionaries(
        {
            "x": st.floats(min_value=-500, max_value=500),
            "y": st.integers(min_value=-500, max_value=500),
            "hit": st.booleans(),
            "ring": st.one_of(st.none(), st.integers(min_value=1, max_value=7)),
        }
    ),
    st.sampled_from([1, "shot", None, [1, 2]]),
)


class Slow(serializers.Serializer):
    shots = serializers.ListField(
        child=ShotSerializer(), required=False, allow_null=True, max_length=1000
    )


class Fast(serializers.Serializer):
    shots = ShotListField(required=False)


def verdict(serializer_class, data):
    serializer = serializer_class(data={"shots": data})
    if serializer.is_valid():
        return True, serializer.validated_data["shots"]
    return False, sorted(map(str, serializer.errors["shots"]))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(shots, max_size=4), st.sampled_from([None, "many", {}, 5])))
def test_the_fast_shots_field_accepts_and_refuses_exactly_what_the_serializer_does(data):
    slow_ok, slow = verdict(Slow, data)
    fast_ok, fast = verdict(Fast, data)
    assert fast_ok == slow_ok, (data, slow, fast)
    if fast_ok and fast is not None:
        assert [dict(shot) for shot in slow] == fast
        assert all(isinstance(shot["x"], float) and math.isfinite(shot["x"]) for shot in fast)
    elif not fast_ok and isinstance(data, list):
        assert fast == slow  # the same shots are named (by index)


def test_more_than_a_thousand_shots_are_refused_by_both():
    data = [{"x": 0, "y": 0, "hit": False, "ring": None}] * 1001
    assert verdict(Slow, data)[0] is False and verdict(Fast, data)[0] is False
