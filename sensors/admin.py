from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from sensors import services
from sensors.models import Alert, Reading, Sensor
from targets_site.admin_format import short_datetime
from targets_site.errors import Conflict

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _OpenAlerts(TypedDict):
        open_alerts: int

    SensorWithOpenAlerts = WithAnnotations[Sensor, _OpenAlerts]


class OpenAlertInline(admin.TabularInline):
    model = Alert
    verbose_name_plural = "open alerts"
    extra = 0
    can_delete = False
    # A tuple: the admin's stubs type ``fields`` more widely than ``readonly_fields``.
    readonly_fields = (
        "kind",
        "opened_at",
        "peak_value",
        "reading_count",
        "acknowledged_by",
        "acknowledged_at",
    )
    fields = readonly_fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(closed_at__isnull=True)

    def has_add_permission(self, request, obj=None) -> bool:
        # Alerts change state only in the alert service (check_thresholds).
        return False


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    # Fits a 1366 px window next to the filter: the rule in one column, its details on the page.
    list_display = ["code", "name", "thresholds", "is_active", "open_alert_count"]
    list_display_links = ["code", "name"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["plot", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "unit", "is_active"]}),
        (
            "Thresholds",
            {
                "fields": [
                    "low_threshold",
                    "high_threshold",
                    "hysteresis",
                    "min_duration",
                    "max_silence",
                ]
            },
        ),
        ("Readings", {"fields": ["plot", "created_at", "updated_at"]}),
    ]
    inlines = [OpenAlertInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(open_alerts=Count("alerts", filter=Q(alerts__closed_at__isnull=True)))
        )

    def delete_model(self, request, obj: Sensor) -> None:
        services.sensor_delete(sensor_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for sensor_id in queryset.values_list("id", flat=True):
            services.sensor_delete(sensor_id=sensor_id)

    @admin.display(description="thresholds")
    def thresholds(self, sensor: Sensor) -> str:
        unit = f" {sensor.unit}" if sensor.unit else ""
        limits = [
            f"{label} {value:g}{unit}"
            for label, value in (("below", sensor.low_threshold), ("above", sensor.high_threshold))
            if value is not None
        ]
        return " or ".join(limits) if limits else "-"

    @admin.display(description="open alerts", ordering="open_alerts")
    def open_alert_count(self, sensor: SensorWithOpenAlerts) -> int:
        return sensor.open_alerts

    @admin.display(description="plot")
    def plot(self, sensor: Sensor) -> str:
        if sensor.pk is None:
            return "Save the sensor to see its plot."
        url = reverse("sensor-plot", kwargs={"code": sensor.code})
        return format_html(
            '<img src="{}?width=1000&amp;height=400" alt="Readings of {}" '
            'width="1000" height="400" style="max-width:100%;height:auto">',
            url,
            sensor.code,
        )


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    # Fits a 1366 px window next to the filter; the counts and times are on the alert's page.
    list_display = ["sensor", "kind", "opened", "closed", "peak_value", "acknowledged_by"]
    list_display_links = ["sensor", "kind"]
    list_filter = ["kind", ("closed_at", admin.EmptyFieldListFilter), "sensor"]
    list_select_related = ["sensor", "acknowledged_by"]
    readonly_fields = [field.name for field in Alert._meta.fields]
    actions = ["acknowledge"]
    ordering = ["-opened_at", "-id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing only: state changes go through the alert service (and the action below).
        return False

    @admin.display(description="opened at", ordering="opened_at")
    def opened(self, alert: Alert) -> str:
        return short_datetime(alert.opened_at)

    @admin.display(description="closed at", ordering="closed_at")
    def closed(self, alert: Alert) -> str:
        return short_datetime(alert.closed_at)

    def has_acknowledge_permission(self, request) -> bool:
        return (
            request.user.is_active and request.user.is_staff and self.has_view_permission(request)
        )

    @admin.action(description="Acknowledge selected alerts", permissions=["acknowledge"])
    def acknowledge(self, request, queryset) -> None:
        done = skipped = 0
        for alert_id in queryset.values_list("id", flat=True):
            try:
                services.alert_acknowledge(alert_id=alert_id, user=request.user)
                done += 1
            except Conflict:
                skipped += 1
        self.message_user(request, f"{done} alerts acknowledged.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} were already acknowledged and left as they were.",
                messages.INFO,
            )


class EstimatingPaginator(Paginator):
    """A paginator that reads the planner's row estimate for the whole readings table.

    Django's admin counts its list on every page: ``COUNT(*)`` over millions of readings is a
    sequential scan (seconds, and growing). For the unfiltered list on PostgreSQL the count is
    ``pg_class.reltuples`` (kept by autovacuum/ANALYZE, summed over the monthly partitions), so
    the page count is approximate there; a filtered list, or a small table (below
    ``EXACT_BELOW`` by the estimate, or never analysed), is counted exactly.
    """

    EXACT_BELOW = 100_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            # Imported here: sensors.selectors loads pandas and numpy, and every cron command
            # imports this admin module at start-up (django.setup()).
            from sensors.selectors import reading_rows_estimate

            estimate = reading_rows_estimate()
            if estimate >= self.EXACT_BELOW:
                return estimate
        return super().count


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    """Read-only: readings arrive through the API, import_readings and generate_readings."""

    list_display = ["sensor", "timestamp", "value"]
    list_filter = ["sensor"]
    list_select_related = ["sensor"]
    # Newest rows by primary key: an index scan for the page itself whatever the table's size.
    # (Each connection draws ids 1,000 at a time, so rows of concurrent writers interleave.)
    ordering = ["-id"]
    # The paginator still counts the (filtered) list to number the pages: EstimatingPaginator
    # keeps that count off the whole table. This drops only the admin's second count, of the
    # unfiltered table, shown next to a filtered one ("5 results (31,536,000 total)").
    show_full_result_count = False
    paginator = EstimatingPaginator
    list_per_page = 100

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
