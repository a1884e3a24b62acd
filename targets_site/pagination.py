from __future__ import annotations

import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

_DIGITS = re.compile(r"[0-9]+")


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (default 50); larger page sizes are clamped to 500.

    A page size that is not a positive whole number is a 400 naming ``page_size``, like any other
    malformed query parameter, rather than a silent fall-back to the default (the documented
    parameter is an integer; a typo should not quietly change what a client gets).
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:
            # Absent or empty (``?page_size=``) means the default, as for every query parameter.
            return self.page_size
        if not _DIGITS.fullmatch(raw):
            raise ValidationError({"page_size": ["A positive whole number is required."]})
        # Any number of digits is clamped without converting a huge string to an int.
        size = int(raw) if len(raw) <= 9 else self.max_page_size
        if size < 1:
            raise ValidationError({"page_size": ["Ensure this value is at least 1."]})
        return min(size, self.max_page_size)
