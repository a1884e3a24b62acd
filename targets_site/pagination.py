from __future__ import annotations

from rest_framework import pagination
from rest_framework.request import Request

from targets_site.query import query_int


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (default 50); larger page sizes are clamped to 500.

    A page size that is not a positive whole number is a 400 naming ``page_size``, like any other
    malformed query parameter, rather than a silent fall-back to the default (the documented
    parameter is an integer; a typo should not quietly change what a client gets).
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int | None:
        if self.page_size is None:  # no PAGE_SIZE setting: DRF's "do not paginate"
            return None
        # Absent or empty (``?page_size=``) means the default; above the cap is the cap.
        return query_int(
            request.query_params,
            self.page_size_query_param,
            default=self.page_size,
            minimum=1,
            maximum=self.max_page_size,
            clamp=True,
        )
