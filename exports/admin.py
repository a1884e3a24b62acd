from __future__ import annotations

import tempfile
from importlib import import_module

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.module_loading import module_has_submodule

from exports import services
from exports.choices import Status
from exports.datasets import dataset_for_model, datasets_available
from exports.formats import rows_write
from exports.models import Export, ExportSchedule
from targets_site.errors import DomainError, InvalidInput


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    # Fits a 1366 px window next to the filter, the download link included; the storage, checksum
    # and requester are on the export's page.
    list_display = [
        "id",
        "dataset",
        "file_format",
        "status",
        "download",
        "rows",
        "size",
        "created_at",
    ]
    list_display_links = ["id", "dataset"]
    list_filter = ["status", "dataset", "format", "storage", "schedule"]
    list_select_related = ["requested_by"]
    actions = ["cancel_exports"]
    search_fields = ["key", "sha256"]
    ordering = ["-id"]
    list_per_page = 50
    readonly_fields = [field.name for field in Export._meta.fields] + ["size", "download"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Exports are made by export_data / the API / run_exports, never typed in.
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # prune_exports deletes the stored file with the record; a bare delete would orphan it.
        return False

    @admin.action(description="Cancel selected exports (pending or running)", permissions=["view"])
    def cancel_exports(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not request.user.is_staff:
            return
        cancelled, refused = 0, []
        for export in queryset.order_by("id"):
            try:
                services.export_cancel(export=export, by=request.user)
                cancelled += 1
            except DomainError as exc:
                refused.append(str(exc))
        if cancelled:
            self.message_user(request, f"Cancelled {cancelled} exports.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.display(description="format", ordering="format")
    def file_format(self, export: Export) -> str:
        return f"{export.format}.gz" if export.gzip else export.format

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


@admin.action(description="Export selected as CSV", permissions=["view"])
def export_selected(modeladmin, request: HttpRequest, queryset: QuerySet) -> FileResponse:
    """The selected rows as a CSV download, with the same columns and escaping as export_data.

    Written to a temp file first (never a whole table in memory), then streamed from it.
    """
    dataset = dataset_for_model(queryset.model)
    assert dataset is not None, queryset.model  # attached only to the datasets' models
    name = dataset.name
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


def export_selected_attach(site: admin.AdminSite) -> None:
    """Give every dataset model's admin the "export selected" action (called below, when the admin
    modules are discovered: the exports app knows the other apps, not the other way round). Their
    admin modules are imported first, so the order of INSTALLED_APPS does not matter."""
    for dataset in datasets_available().values():
        app = dataset.model._meta.app_config
        if module_has_submodule(app.module, "admin"):
            import_module(f"{app.name}.admin")
        model_admin = site._registry.get(dataset.model)
        if model_admin is None:
            continue
        actions = list(model_admin.actions or [])
        if export_selected not in actions:
            model_admin.actions = [*actions, export_selected]


class ExportScheduleForm(forms.ModelForm):
    class Meta:
        model = ExportSchedule
        fields = [
            "name",
            "dataset",
            "format",
            "gzip",
            "filters",
            "storage",
            "every",
            "is_active",
            "next_run_at",
            "last_until",
        ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean() returns
        try:
            cleaned["filters"] = services.schedule_validate(
                dataset=cleaned.get("dataset", ""),
                fmt=cleaned.get("format", ""),
                compress=bool(cleaned.get("gzip")),
                filters=cleaned.get("filters"),
                storage=cleaned.get("storage"),
                last_until=cleaned.get("last_until"),
            )
        except InvalidInput as exc:
            if not isinstance(exc.details, dict) or not exc.details:
                raise forms.ValidationError(str(exc)) from None
            # Each message next to its field; a filter's (sensor, since...) next to "filters".
            for name, found in exc.details.items():
                problems = (
                    [str(problem) for problem in found] if isinstance(found, list) else [str(found)]
                )
                if name in self.fields:
                    self.add_error(name, problems)
                else:
                    self.add_error("filters", [f"{name}: {problem}" for problem in problems])
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(ExportSchedule)
class ExportScheduleAdmin(admin.ModelAdmin):
    form = ExportScheduleForm
    list_display = [
        "name",
        "dataset",
        "format",
        "gzip",
        "storage",
        "every",
        "is_active",
        "next_run_at",
        "last_until",
    ]
    list_filter = ["is_active", "every", "dataset", "storage"]
    search_fields = ["name"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


export_selected_attach(admin.site)
