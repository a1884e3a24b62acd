from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from targets_site.errors import TooLarge


class JSONObject(dict):
    """A JSON object as parsed from a request body.

    Marks data that arrived as JSON, so ``StrictFieldsMixin`` type-checks it strictly (a ``"5"``
    is not an integer there) while the same serializers stay lenient for CSV imports.
    """


# Deeper than any body the API takes (a score's replay is 4 levels); far below the recursion limit.
MAX_JSON_DEPTH = 32


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def contains_nul(value: Any) -> bool:
    """True when any string (key or value) in a parsed JSON document holds a NUL character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return True
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers (``value`` itself is level 1) nest deeper than ``limit``. Iterative."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


class JSONParser(parsers.JSONParser):
    """Strict JSON: bounded size (413), UTF-8 only, no NaN/Infinity and no NUL characters.

    Nesting is bounded (``MAX_JSON_DEPTH``), so no body can exhaust the recursion limit of the
    decoder or of anything that walks the data later.
    DRF reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE would not apply
    to JSON bodies; the bound is enforced here. NUL is refused for every string because PostgreSQL
    text cannot store it and would otherwise turn bad input into a server error.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request else 0
        except ValueError:
            declared = 0
        if declared > limit:
            raise TooLarge()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise TooLarge()
        try:
            text = raw.decode("utf-8")
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=JSONObject)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            # The C decoder recurses once per level: thousands of "[" would be a 500 otherwise.
            raise ParseError(_too_deep()) from None
        # Counting brackets (C speed) clears ordinary bodies without walking them.
        if (
            isinstance(data, (dict, list))
            and text.count("[") + text.count("{") > MAX_JSON_DEPTH
            and json_depth_exceeds(data, MAX_JSON_DEPTH)
        ):
            raise ParseError(_too_deep())
        # Valid JSON can only carry NUL as the escape \u0000, so the text search (C speed) clears
        # almost every body; the walk confirms, so an escaped backslash before "u0000" passes.
        if "\\u0000" in text and contains_nul(data):
            raise ParseError("NUL characters are not allowed in JSON strings.")
        return data


def _too_deep() -> str:
    return f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted."
