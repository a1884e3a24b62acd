"""DRF's JSON renderer encoded by orjson (``targets_site.fastjson`` says why and how it differs).

``renderer_classes()`` gives a view the configured renderers with this one in place of DRF's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import orjson
from rest_framework import renderers
from rest_framework.settings import api_settings

from targets_site.fastjson import OPTIONS


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
            body = orjson.dumps(data, default=self.encoder_class().default, option=OPTIONS)
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
