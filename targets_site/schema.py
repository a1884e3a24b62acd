"""OpenAPI generation that says what the API really does (checked by ``tests/fuzz``).

- ``add_error_responses`` documents the one error shape on every operation. drf-spectacular
  describes only the success responses a view declares, but every operation can answer a
  malformed request (400), a bad token (401), a refusal (403), an unknown path value (404), a
  throttle (429) or an unavailable backing service (503); writes can also conflict (409, 412,
  422) or carry a body that is too large or of the wrong type (413, 415).
- Optional query parameters allow an empty value, which every endpoint reads as "not given".
- It also documents that decimals (sent back as strings such as ``"1200.00"``) are accepted as
  JSON numbers on input, as the SPEC promises.
- ``AutoSchema`` documents the ``Idempotency-Key`` header on every POST that honours it
  (``targets_site/idempotency.py``).
- ``AutoSchema`` marks authentication optional (``{}``) where anonymous callers are in fact let
  in: drf-spectacular only recognises DRF's own AllowAny / IsAuthenticatedOrReadOnly.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

ERROR_COMPONENT = "Error"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "Machine-readable, e.g. not_found."},
                "message": {"type": "string"},
                "details": {
                    "type": "object",
                    "description": "Field (or row index) -> messages; empty when not about input.",
                },
            },
        }
    },
}

_DESCRIPTIONS = {
    "400": "Invalid input (validation_error, parse_error, bad_request).",
    "401": "Missing or invalid credentials.",
    "403": "Authenticated but not allowed.",
    "404": "No such resource.",
    "409": "Conflicts with the current state.",
    "412": "If-Match does not match the current ETag.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "422": "Well-formed but cannot be processed.",
    "429": "Throttled; see Retry-After.",
    "503": "A backing service (database, rate-limit cache, storage) is unavailable.",
}
_EVERY_OPERATION = ("400", "401", "403", "404", "429", "503")
_WRITES = ("409", "412", "413", "415", "422")
_SAFE_METHODS = {"get", "head", "options"}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the Error responses and component."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    for name, component in components.items():
        if name.endswith("Request"):
            _accept_numbers_for_decimals(component)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                # Filters, pagination and ranges all read ``?name=`` (empty) as "not given".
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            statuses = _EVERY_OPERATION if method in _SAFE_METHODS else _EVERY_OPERATION + _WRITES
            responses = operation["responses"]
            for status in statuses:
                responses.setdefault(
                    status,
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


def _accept_numbers_for_decimals(component: dict[str, Any]) -> None:
    for name, prop in list(component.get("properties", {}).items()):
        if prop.get("type") == "string" and prop.get("format") == "decimal":
            number = {"type": "number"}
            for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if bound in prop:
                    number[bound] = prop[bound]
            as_string = {key: value for key, value in prop.items() if key != "nullable"}
            component["properties"][name] = {"oneOf": [as_string, number]}
            if prop.get("nullable"):
                component["properties"][name]["nullable"] = True


def _lets_anonymous_in(view, method: str) -> bool:
    """Ask the view's own permission classes whether an anonymous caller may use ``method``."""
    django_request = HttpRequest()
    django_request.method = method
    request = Request(django_request)
    request.user = AnonymousUser()
    try:
        return all(perm.has_permission(request, view) for perm in view.get_permissions())
    except Exception:
        # A permission that needs more context (an object, a queryset) is treated as closed.
        return False


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe: the same key with the same body within 24 h answers the first "
        "response again (header Idempotent-Replayed: true) without doing anything twice; the "
        "same key with another body is a 422, and a retry while the first still runs a 409."
    ),
)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and not getattr(self.view, "idempotency_exempt", False):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        if auths and {} not in auths and _lets_anonymous_in(self.view, self.method):
            auths.append({})
        return auths
