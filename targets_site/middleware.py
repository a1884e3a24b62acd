from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse

from targets_site.auth import client_ip
from targets_site.exceptions import error_body
from targets_site.logging import log_escape

logger = logging.getLogger("targets.request")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestLogMiddleware:
    """One line per request (method, path, status, duration, user, request id); X-Request-ID out.

    A client's own X-Request-ID is kept when it is short and plain, so a trace can be followed
    from the client into the log; anything else is replaced by a fresh id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        supplied = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if _SANE_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else "-"
        # An API key appears by its prefix only (DRF sets request.auth on the Django request).
        key_prefix = getattr(getattr(request, "auth", None), "prefix", None) or "-"
        logger.info(
            "%s %s %s %.1fms user=%s key=%s ip=%s request_id=%s",
            log_escape(request.method or "-"),
            log_escape(request.path).replace(" ", "%20"),
            response.status_code,
            duration_ms,
            log_escape(username).replace(" ", "\\x20") or "-",
            log_escape(key_prefix),
            # The client as the throttles see it: behind nginx (NUM_PROXIES=1), the real one.
            log_escape(client_ip(request)).replace(" ", "") or "-",
            request_id,
        )
        return response


class RejectNulBytesMiddleware:
    """Refuse NUL bytes in the path or query string before any view or database sees them.

    PostgreSQL cannot store or compare NUL in text, so a ``%00`` reaching a lookup would be a
    server error instead of the client error it is.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(query):
            return JsonResponse(
                error_body("bad_request", "NUL bytes are not allowed in the path or query string."),
                status=400,
            )
        return self.get_response(request)
