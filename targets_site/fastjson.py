"""JSON encoded by orjson where the standard library is the bottleneck: large lists of numbers.

A 900-shot score carries its replay (2,700 integers) and the server's re-run of the shots (900
``{x, y, hit, ring}`` objects). The standard library's encoder spends about 1.6 ms on that shot
list (float formatting, mostly); orjson about 0.1 ms. It is written twice per submission (the
database column, the answer), so both go through orjson:

- ``JSONEncoder``: the ``encoder`` of a model ``JSONField`` (Django calls ``json.dumps(value,
  cls=encoder)``; its ``encode`` is what runs).
- ``JSONRenderer``: DRF's JSON renderer with the same output (compact, UTF-8, ``\\u2028`` and
  ``\\u2029`` escaped, DRF's encoder for types JSON lacks); an indented answer
  (``Accept: application/json; indent=4``) stays DRF's own.

The JSON text may differ in spelling only (``1e16`` for ``1e+16``), not in value; anything
orjson refuses (an integer beyond 64 bits, say) takes the standard path, errors included. One
difference: a NaN or infinity, which DRF's strict renderer refuses, orjson writes as ``null``;
the fields these carry are finite by validation, so neither can reach them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import orjson
from rest_framework import renderers
from rest_framework.settings import api_settings

# Types the standard encoders handle in their own way (or refuse) go to their ``default``.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
)


class JSONEncoder(json.JSONEncoder):
    """The standard encoder's JSON for a model ``JSONField``, encoded by orjson."""

    def encode(self, o: Any) -> str:
        try:
            return orjson.dumps(o, default=self.default, option=_OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError: the standard encoder says why, or copes
            return super().encode(o)


class JSONRenderer(renderers.JSONRenderer):
    """DRF's ``JSONRenderer``, encoded by orjson for the compact form the API answers in."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        indent = self.get_indent(accepted_media_type or "", renderer_context or {})
        if data is None or indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except TypeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does: the JSON stays a strict subset of JavaScript.
        return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


def renderer_classes() -> list[type[renderers.BaseRenderer]]:
    """The configured renderers with DRF's JSON one replaced by ``JSONRenderer`` (the browsable
    API under DEBUG stays); api_settings gives classes (its type stubs say strings)."""
    configured = cast(list[type[renderers.BaseRenderer]], api_settings.DEFAULT_RENDERER_CLASSES)
    return [
        JSONRenderer if renderer is renderers.JSONRenderer else renderer for renderer in configured
    ]
