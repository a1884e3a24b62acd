from __future__ import annotations

import json
from itertools import chain
from typing import Any

import orjson
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
_CONTAINERS = (dict, list)


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


def _children(level: list[Any]) -> list[Any]:
    """The values of every object and the items of every list in ``level``, in one list.

    A level made of objects only (or of lists only), such as the 10,000 readings of a batch, is
    flattened by C loops; only a mixed level costs a Python step per container.
    """
    kinds = set(map(type, level))
    if all(issubclass(kind, dict) for kind in kinds):
        return list(chain.from_iterable(map(dict.values, level)))
    if all(issubclass(kind, list) for kind in kinds):
        return list(chain.from_iterable(level))
    return list(
        chain.from_iterable([item.values() if isinstance(item, dict) else item for item in level])
    )


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers (``value`` itself is level 1) nest deeper than ``limit``. Iterative.

    Walks one level at a time and looks at the types of a level's children as a set: a batch of
    10,000 flat objects costs ~2 ms here, a third of a walk that visits each value in Python.
    """
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 1
    while level:
        children = _children(level)
        kinds = set(map(type, children))
        nested = [kind for kind in kinds if issubclass(kind, _CONTAINERS)]
        if not nested:
            return False
        depth += 1
        if depth > limit:
            return True
        if len(nested) < len(kinds):
            children = [child for child in children if isinstance(child, _CONTAINERS)]
        level = children
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
        raw = _read_body(stream, (parser_context or {}).get("request"))
        data = self.decode(raw)
        # Counting brackets (C speed) clears ordinary bodies without walking them.
        if (
            isinstance(data, (dict, list))
            and raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH
            and json_depth_exceeds(data, MAX_JSON_DEPTH)
        ):
            raise ParseError(_too_deep())
        # Valid JSON can only carry NUL as the escape \u0000, so the text search (C speed) clears
        # almost every body; the walk confirms, so an escaped backslash before "u0000" passes.
        if b"\\u0000" in raw and contains_nul(data):
            raise ParseError("NUL characters are not allowed in JSON strings.")
        return data

    def decode(self, raw: bytes) -> Any:
        """The document in ``raw``; objects become ``JSONObject``. Raises ``ParseError``."""
        try:
            text = raw.decode("utf-8")
            return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=JSONObject)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            # The C decoder recurses once per level: thousands of "[" would be a 500 otherwise.
            raise ParseError(_too_deep()) from None


class PlainJSONParser(JSONParser):
    """The same rules, decoded by orjson into plain dicts: for a body that is validated as data.

    For an endpoint that checks every value itself and uses no serializer (the readings
    ingest): ``JSONObject`` marks objects for serializers, a Python call per object. A batch of
    10,000 readings decodes in ~3 ms here against ~15 ms. Whatever orjson refuses goes to the
    standard decoder, so refusals say the same as everywhere else, and what orjson alone
    refuses but the standard decoder reads (a lone surrogate escape, a number beyond float
    range) is read as before. One difference remains: an integer beyond 64 bits arrives as the
    nearest float (``tests/platform/test_parsers.py`` holds the two decoders to that).
    """

    def decode(self, raw: bytes) -> Any:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return super().decode(raw)


def _read_body(stream, request) -> bytes:
    """The whole body, refused with 413 beyond ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request else 0
    except ValueError:
        declared = 0
    if declared > limit:
        raise TooLarge()
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge()
    return raw


def _too_deep() -> str:
    return f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted."
