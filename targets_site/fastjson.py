"""JSON encoded by orjson where the standard library is the bottleneck: large lists of numbers.

A 900-shot score carries its replay (2,700 integers) and the server's re-run of the shots (900
``{x, y, hit, ring}`` objects). The standard library's encoder spends about 1.6 ms on that shot
list (float formatting, mostly); orjson about 0.1 ms. It is written twice per submission (the
database column, the answer), so both go through orjson:

- ``JSONEncoder`` (here): the ``encoder`` of a model ``JSONField`` (Django calls
  ``json.dumps(value, cls=encoder)``; its ``encode`` is what runs). This module imports no DRF:
  models load it, and management commands start without DRF.
- ``targets_site.renderers.JSONRenderer``: DRF's JSON renderer with the same output (compact,
  UTF-8, ``\\u2028`` and ``\\u2029`` escaped, DRF's encoder for types JSON lacks); an indented
  answer (``Accept: application/json; indent=4``) stays DRF's own.

The JSON text may differ in spelling only (``1e16`` for ``1e+16``), not in value; anything
orjson refuses (an integer beyond 64 bits, say) takes the standard path, errors included. One
difference: a NaN or infinity, which DRF's strict renderer refuses, orjson writes as ``null``;
the fields these carry are finite by validation, so neither can reach them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Types the standard encoders handle in their own way (or refuse) go to their ``default``.
OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
)


class JSONEncoder(json.JSONEncoder):
    """The standard encoder's JSON for a model ``JSONField``, encoded by orjson."""

    def encode(self, o: Any) -> str:
        try:
            return orjson.dumps(o, default=self.default, option=OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError: the standard encoder says why, or copes
            return super().encode(o)
