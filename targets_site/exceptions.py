"""The API's one error shape: the handler that turns every exception into it.

Every error under ``/api/`` answers::

    {"error": {"code": "<machine_code>", "message": "<human text>", "details": {field: [msgs]}}}

Services raise the domain vocabulary of ``targets_site.errors``; ``DOMAIN_STATUS`` gives each kind
its HTTP status here, the only place that knows it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from targets_site import errors

logger = logging.getLogger("targets.errors")


class _DomainAPIException(exceptions.APIException):
    """A domain error on its way through DRF's handler (which sets headers and rolls back)."""

    def __init__(self, error: errors.DomainError) -> None:
        self.status_code = domain_status(error)
        self.error = error
        super().__init__(detail=error.message, code=error.code)


# Most specific first: the first class the error is an instance of gives the status.
DOMAIN_STATUS: tuple[tuple[type[errors.DomainError], int], ...] = (
    (errors.InvalidInput, status.HTTP_400_BAD_REQUEST),
    (errors.PermissionDenied, status.HTTP_403_FORBIDDEN),
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.Conflict, status.HTTP_409_CONFLICT),
    (errors.Gone, status.HTTP_410_GONE),
    (errors.PreconditionFailed, status.HTTP_412_PRECONDITION_FAILED),
    (errors.TooLarge, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE),
    (errors.Unprocessable, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (errors.UpstreamFailed, status.HTTP_502_BAD_GATEWAY),
    (errors.Unavailable, status.HTTP_503_SERVICE_UNAVAILABLE),
    (errors.DomainError, status.HTTP_400_BAD_REQUEST),
)


def domain_status(exc: errors.DomainError) -> int:
    """The HTTP status of a domain error."""
    return next(code for kind, code in DOMAIN_STATUS if isinstance(exc, kind))


_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "server_error",
    503: "service_unavailable",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": _as_details(details)}}


def _as_details(details: Any) -> dict[str, Any]:
    """Normalise DRF error detail into ``{field: [msgs]}`` (list rows keyed by their index)."""
    if not details:
        return {}
    if isinstance(details, dict):
        return {str(key): _plain(value) for key, value in details.items()}
    if isinstance(details, list):
        if all(isinstance(entry, dict) for entry in details):
            return {str(index): _plain(entry) for index, entry in enumerate(details) if entry}
        return {"non_field_errors": _plain(details)}
    return {"non_field_errors": [str(details)]}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_plain(child) for child in value]
    return str(value)


def _as_domain_error(exc: Exception) -> Exception:
    """Django's own exceptions in the domain vocabulary; anything else as it is."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return errors.InvalidInput(details=exc.message_dict)
        return errors.InvalidInput(details={"non_field_errors": exc.messages})
    if isinstance(exc, RequestDataTooBig):
        return errors.TooLarge()
    if isinstance(exc, ObjectDoesNotExist):
        return errors.NotFound()
    # A bare Http404 (DRF's get_object_or_404 on a malformed id) has no text: use the default.
    if isinstance(exc, Http404):
        return errors.NotFound(str(exc) or None)
    if isinstance(exc, DjangoPermissionDenied):
        return errors.PermissionDenied(str(exc) or None)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return errors.Unavailable("The database is unavailable; try again shortly.")
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error becomes the one JSON shape, never a traceback."""
    # Imported here: rest_framework.views loads the API settings, which load this handler.
    from rest_framework.views import exception_handler, set_rollback

    exc = _as_domain_error(exc)
    if isinstance(exc, errors.DomainError):
        exc = _DomainAPIException(exc)
    # DRF's own handler sets the headers (Retry-After, WWW-Authenticate) and rolls back.
    response = exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("unhandled error in %s", type(view).__name__ if view else "API view")
        set_rollback()
        return Response(
            error_body("server_error", "An internal error occurred; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, _DomainAPIException):
        code, message, details = exc.error.code, exc.error.message, exc.error.details
    elif isinstance(exc, exceptions.ValidationError):
        code, message, details = "validation_error", "Invalid input.", exc.detail
    else:
        detail = getattr(exc, "detail", None)
        default = getattr(exc, "default_code", None)
        code = _CODES.get(response.status_code, default or "error")
        if isinstance(exc, exceptions.AuthenticationFailed):
            code = "authentication_failed"
        elif isinstance(exc, exceptions.ParseError):
            code = "parse_error"
        message = str(detail) if detail is not None else str(exc)
        details = None
    response.data = error_body(code, message, details)
    return response
