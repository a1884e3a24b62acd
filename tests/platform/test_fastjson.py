"""orjson-encoded JSON (targets_site/fastjson.py) against the standard encoders it replaces."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from rest_framework import renderers

from targets_site.fastjson import JSONEncoder
from targets_site.renderers import JSONRenderer

SHOTS = [
    {"x": -3.417, "y": 12.0, "hit": True, "ring": 1},
    {"x": 0.001, "y": -48.5, "hit": False, "ring": None},
]
ANSWER = {
    "id": 7,
    "mode": "moving",
    "accuracy": 0.3333,
    "duration_s": 29.5,
    "shots": SHOTS,
    "client_version": "targets-client 1.2 \u00e9t\u00e9 \u2028 \u2029",
    "played_at": dt.datetime(2026, 11, 30, 8, 1, 2, 345678, tzinfo=dt.UTC),
    "submission_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "price": Decimal("12.50"),
    "nothing": None,
}


def test_a_model_field_value_encodes_to_the_same_json_value():
    value = {"shots": SHOTS, "replay": {"seed": 2**53 - 1, "shots": [[0, 1, 2], [8, 799, 599]]}}
    assert json.loads(json.dumps(value, cls=JSONEncoder)) == value


def test_what_the_standard_encoder_refuses_is_refused_the_same_way():
    for value in ({"when": dt.datetime(2026, 1, 1)}, {"thing": object()}):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            json.dumps(value, cls=JSONEncoder)


def test_an_integer_orjson_cannot_hold_takes_the_standard_path():
    assert json.dumps([2**70], cls=JSONEncoder) == "[1180591620717411303424]"


def test_the_renderer_writes_the_bytes_drf_writes():
    assert JSONRenderer().render(ANSWER) == renderers.JSONRenderer().render(ANSWER)


def test_an_indented_answer_is_drfs_own():
    media_type = "application/json; indent=2"
    ours = JSONRenderer().render(ANSWER, media_type)
    assert ours == renderers.JSONRenderer().render(ANSWER, media_type)
    assert b"\n  " in ours


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""
