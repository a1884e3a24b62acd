"""Conditional requests (RFC 9110 section 13): ``If-Match`` for optimistic concurrency.

The view parses the header (``if_match_tags``); the service compares under its row lock
(``etag_matches``), so a check and the write it guards never interleave with another writer.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest
from django.utils.http import parse_etags


def if_match_tags(request: HttpRequest) -> list[str] | None:
    """The entity tags listed in ``If-Match`` (``["*"]`` for any), or None without the header.

    A header with no well-formed tag parses to ``[]``, which matches nothing (412).
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    return parse_etags(header)


def etag_matches(tags: Sequence[str], etag: str) -> bool:
    """Strong comparison, as ``If-Match`` requires: a weak tag (``W/"..."``) never matches."""
    if list(tags) == ["*"]:
        return True
    if etag.startswith("W/"):
        return False
    return etag in tags
