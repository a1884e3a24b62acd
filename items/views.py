from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from items import services
from items.filters import ItemFilter, ItemFilterBackend
from items.models import Item, StockSource
from items.serializers import (
    ItemSerializer,
    StockAdjustmentResultSerializer,
    StockAdjustmentSerializer,
)
from targets_site.conditional import if_match_tags
from targets_site.permissions import StaffOrModelPermissionsOrReadOnly, StaffOrPermission
from targets_site.users import signed_in_user

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The item's ETag (or `*`); a stale or weak (`W/`) tag answers 412 and changes nothing."
    ),
)


def _with_etag(response: Response, item: Item) -> Response:
    response["ETag"] = item.etag
    return response


class ItemViewSet(viewsets.ModelViewSet):
    """The item catalogue: anyone reads; writes need staff or the matching model permission."""

    queryset = Item.objects.all()
    serializer_class = ItemSerializer
    permission_classes = [StaffOrModelPermissionsOrReadOnly]
    key_scopes = {"write": "items:write"}
    filter_backends = [ItemFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    filterset_class = ItemFilter
    search_fields = ["name", "description", "sku"]
    ordering_fields = ["price", "name", "created_at", "stock_quantity"]
    ordering = ["id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            # Read-only rows: plain dicts skip building a model instance per row, a fifth of the
            # list's CPU (docs/PERFORMANCE.md). ItemSerializer reads either form.
            return queryset.values(*ItemSerializer.Meta.fields)
        return queryset

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        item = self.get_object()
        return _with_etag(Response(self.get_serializer(item).data), item)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.item_create(
            data=serializer.validated_data, user=request.user, source=StockSource.CREATE
        )
        return _with_etag(
            Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED), item
        )

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        item = services.item_update(
            item_id=item.pk,
            data=serializer.validated_data,
            if_match=if_match_tags(request),
            user=request.user,
            source=StockSource.API,
        )
        return _with_etag(Response(self.get_serializer(item).data), item)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        item = self.get_object()
        services.item_delete(item_id=item.pk, if_match=if_match_tags(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=StockAdjustmentSerializer,
        responses={200: StockAdjustmentResultSerializer},
        description="Move stock atomically; a result below zero is 409 and changes nothing.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="adjust-stock",
        permission_classes=[StaffOrPermission.of("items.change_item")],
    )
    def adjust_stock(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        serializer = StockAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item, movement = services.item_adjust_stock(
            item_id=item.pk,
            delta=serializer.validated_data["delta"],
            reason=serializer.validated_data["reason"],
            user=signed_in_user(request),
        )
        body = StockAdjustmentResultSerializer({"item": item, "movement": movement}).data
        return _with_etag(Response(body), item)
