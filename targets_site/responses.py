"""Views whose success is a file or an image and whose errors are the API's JSON.

Set ``content_negotiation_class = BinaryOrJsonErrors`` on the view (or the ``@action``) and
return ``binary_response(...)`` (or a ``FileResponse`` for a stored file) on success. The view
negotiates JSON whatever the client's ``Accept`` says, so ``Accept: image/png`` is never a 406
and every error raised on the way (400, 404, 409...) is the one JSON shape; the success is a
plain Django response that no renderer touches.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request


class BinaryOrJsonErrors(DefaultContentNegotiation):
    """Errors render as JSON whatever the client accepts; success bypasses the renderers."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        return JSONRenderer(), JSONRenderer.media_type


def binary_response(
    content: bytes, *, content_type: str, cache_control: str = "no-store"
) -> HttpResponse:
    """``content`` (e.g. PNG bytes) as the body, with its type and a Cache-Control."""
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = cache_control
    return response
