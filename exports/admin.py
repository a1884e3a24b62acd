from __future__ import annotations

import tempfile

from django.contrib import admin
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from exports.choices import Status
from exports.datasets import datasets_available
from exports.formats import rows_write
from exports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "dataset",
        "format",
        "gzip",
        "status",
        "storage",
        "rows",
        "size",
        "short_sha256",
        "requested_by",
        "created_at",
        "download",
    ]
    list_filter = ["status", "dataset", "format", "storage"]
    list_select_related = ["requested_by"]
    search_fields = ["key", "sha256"]
    ordering = ["-id"]
    list_per_page = 50
    readonly_fields = [field.name for field in Export._meta.fields] + ["size", "download"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Exports are made by export_data / the API / run_exports, never typed in.
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="size", ordering="bytes")
    def size(self, export: Export) -> str:
        return filesizeformat(export.bytes) if export.bytes is not None else "-"

    @admin.display(description="sha256")
    def short_sha256(self, export: Export) -> str:
        if not export.sha256:
            return "-"
        return format_html('<span title="{}">{}…</span>', export.sha256, export.sha256[:12])

    @admin.display(description="file")
    def download(self, export: Export) -> str:
        if export.status != Status.SUCCEEDED:
            return "-"
        url = reverse("export-download", kwargs={"pk": export.pk})
        return format_html('<a href="{}">download</a>', url)


_DATASET_BY_MODEL = {
    "items.item": "items",
    "sensors.sensor": "sensors",
    "sensors.reading": "readings",
    "sensors.alert": "alerts",
    "games.score": "scores",
}


@admin.action(description="Export selected as CSV", permissions=["view"])
def export_selected(modeladmin, request: HttpRequest, queryset: QuerySet) -> FileResponse:
    """The selected rows as a CSV download, with the same columns and escaping as export_data.

    Written to a temp file first (never a whole table in memory), then streamed from it.
    """
    name = _DATASET_BY_MODEL[queryset.model._meta.label_lower]
    dataset = datasets_available()[name]
    rows = (
        dataset.model._default_manager.filter(pk__in=queryset.values("pk"))
        .order_by(*dataset.ordering)
        .values_list(*[column.path for column in dataset.columns])
        .iterator(chunk_size=2000)
    )
    target = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it when sent
    rows_write(target=target, fmt="csv", columns=dataset.column_names, rows=rows)
    target.seek(0)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"{name}-selected-{stamp}.csv",
        content_type="text/csv; charset=utf-8",
    )
