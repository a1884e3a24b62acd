from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse, HttpResponseRedirect
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from exports import services
from exports.choices import DATASET_NAMES, Format, Status, StorageKind
from exports.models import Export, ExportSchedule
from exports.serializers import (
    ExportRequestSerializer,
    ExportScheduleSerializer,
    ExportSerializer,
)
from exports.storage import DOWNLOAD_URL_EXPIRE_S, export_storage
from targets_site.errors import Conflict, Gone, Unavailable
from targets_site.permissions import IsStaff
from targets_site.responses import BinaryOrJsonErrors
from targets_site.users import signed_in_user

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage


class ExportFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Status.choices)
    dataset = filters.ChoiceFilter(choices=[(name, name) for name in DATASET_NAMES])
    format = filters.ChoiceFilter(choices=Format.choices)
    storage = filters.ChoiceFilter(choices=StorageKind.choices)

    class Meta:
        model = Export
        fields = ["status", "dataset", "format", "storage"]


class FormatIsAFilter(DefaultContentNegotiation):
    """``?format=csv`` filters the list by export format; DRF must not read it as a renderer
    switch (which answered every such request with a 404)."""

    # DRF reads only URL_FORMAT_OVERRIDE from here; the stubs type this as DRF's whole settings.
    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)  # type: ignore[assignment]


class ExportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Data exports (staff only). POST records a pending export that ``run_exports`` runs."""

    permission_classes = [IsStaff]
    key_scopes = {"read": "exports:read", "write": "exports:write"}
    content_negotiation_class = FormatIsAFilter
    queryset = Export.objects.select_related("requested_by").order_by("-id")
    serializer_class = ExportSerializer
    filterset_class = ExportFilter
    search_fields: list[str] = []
    ordering_fields = ["id", "created_at", "finished_at", "bytes", "rows"]

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        incoming = ExportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        export = services.export_request(
            dataset=data["dataset"],
            fmt=data["format"],
            compress=data["gzip"],
            filters=dict(data.get("filters") or {}),
            storage=data.get("storage"),
            requested_by=signed_in_user(request),
        )
        body = ExportSerializer(export, context=self.get_serializer_context()).data
        location = self.reverse_action("detail", kwargs={"pk": export.pk})
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(request=None, responses={200: ExportSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a pending or running export (409 once it has ended)."""
        export = services.export_cancel(export=self.get_object(), by=request.user)
        return Response(ExportSerializer(export, context=self.get_serializer_context()).data)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="Redirect to a time-limited signed S3 URL."),
            409: OpenApiResponse(description="The export has not succeeded."),
        }
    )
    @action(detail=True, methods=["get"], content_negotiation_class=BinaryOrJsonErrors)
    def download(self, request: Request, pk: str | None = None):
        export = self.get_object()
        if export.status != Status.SUCCEEDED:
            raise Conflict(
                f"Export #{export.pk} is {export.status}; only a succeeded one has a file."
            )
        try:
            storage = export_storage(export.storage)
        except ImproperlyConfigured as exc:
            raise Unavailable(str(exc)) from None
        if export.storage == StorageKind.S3:
            # export_storage gives an S3Storage for S3, whose url() signs with these options.
            url = cast("S3Storage", storage).url(
                export.key,
                parameters={
                    "ResponseContentDisposition": f'attachment; filename="{export.filename}"'
                },
                expire=DOWNLOAD_URL_EXPIRE_S,
            )
            return HttpResponseRedirect(url)
        if not storage.exists(export.key):
            raise Gone(f"The file of export #{export.pk} is no longer stored.")
        content_type = "application/gzip" if export.gzip else _CONTENT_TYPES[export.format]
        response = FileResponse(
            storage.open(export.key, "rb"),
            as_attachment=True,
            filename=export.filename,
            content_type=content_type,
        )
        response["X-Content-SHA256"] = export.sha256
        return response


_CONTENT_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.JSON: "application/json",
    Format.JSONL: "application/x-ndjson",
    Format.PARQUET: "application/vnd.apache.parquet",
}


class ExportScheduleViewSet(viewsets.ModelViewSet):
    """Scheduled exports (staff only): ``run_exports`` requests each due run once, covering
    ``[previous until, now)``."""

    permission_classes = [IsStaff]
    key_scopes = {"read": "exports:read", "write": "exports:write"}
    content_negotiation_class = FormatIsAFilter
    queryset = ExportSchedule.objects.select_related("created_by").order_by("name")
    serializer_class = ExportScheduleSerializer
    search_fields: list[str] = []
    ordering_fields = ["name", "next_run_at", "created_at"]

    def perform_create(self, serializer) -> None:
        serializer.instance = services.schedule_save(
            fields=dict(serializer.validated_data), by=self.request.user
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = services.schedule_save(
            schedule=serializer.instance, fields=dict(serializer.validated_data)
        )
