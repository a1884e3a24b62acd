"""The project's URLs plus the bare Django view the DRF item list is measured against.

The bare view returns the same page as ``GET /api/v1/items/?page_size=50`` (count, links and
the same 50 rows in the same JSON types) from ``.values()`` with ``JsonResponse``: no serializer,
no DRF request, authentication, throttling, filtering or content negotiation.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from items.models import Item

FIELDS = [
    "id",
    "sku",
    "name",
    "description",
    "price",
    "stock_quantity",
    "is_active",
    "created_at",
    "updated_at",
]


def bare_items(request: HttpRequest) -> JsonResponse:
    page_size = 50
    items = Item.objects.order_by("id")
    count = items.count()
    rows = list(items.values(*FIELDS)[:page_size])
    for row in rows:
        row["price"] = str(row["price"])
        row["created_at"] = row["created_at"].isoformat().replace("+00:00", "Z")
        row["updated_at"] = row["updated_at"].isoformat().replace("+00:00", "Z")
    next_url = (
        request.build_absolute_uri("/bench/bare-items/?page=2&page_size=50")
        if count > page_size
        else None
    )
    return JsonResponse({"count": count, "next": next_url, "previous": None, "results": rows})


urlpatterns = [
    path("bench/bare-items/", bare_items),
    path("", include("targets_site.urls")),
]
