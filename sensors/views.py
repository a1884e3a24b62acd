from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sensors import selectors, services
from sensors.filters import PLOT_HEIGHT, PLOT_WIDTH
from sensors.models import Alert, Sensor
from sensors.parsing import MAX_BATCH, parse_bucket, reading_json_schema
from sensors.plotting import render_plot
from sensors.serializers import (
    AlertSerializer,
    BreachSerializer,
    IngestResultSerializer,
    ReadingSerializer,
    SensorSerializer,
    StatBucketSerializer,
)
from targets_site import renderers
from targets_site.errors import InvalidInput
from targets_site.parsers import PlainJSONParser
from targets_site.permissions import (
    IsStaff,
    IsStaffOrReadOnly,
    StaffOrPermission,
    key_sensor_limit,
)
from targets_site.query import query_bool, query_int, query_range
from targets_site.responses import BinaryOrJsonErrors, binary_response
from targets_site.users import signed_in_user

MAX_PLOT_SENSORS = 10
RANGE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Aware ISO-8601, inclusive."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Aware ISO-8601, inclusive."),
]
SIZE_PARAMETERS = [
    OpenApiParameter("width", int, description=f"{PLOT_WIDTH[0]}..{PLOT_WIDTH[1]} px"),
    OpenApiParameter("height", int, description=f"{PLOT_HEIGHT[0]}..{PLOT_HEIGHT[1]} px"),
]


class SensorViewSet(viewsets.ModelViewSet):
    """Sensors by code: anyone reads, staff write."""

    queryset = Sensor.objects.all()
    serializer_class = SensorSerializer
    permission_classes = [IsStaffOrReadOnly]
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_.\-]{1,50}"
    filter_backends: list = []
    ordering = ["code"]

    def perform_destroy(self, instance: Sensor) -> None:
        services.sensor_delete(sensor_id=instance.pk)

    @extend_schema(parameters=RANGE_PARAMETERS, responses={200: BreachSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def breaches(self, request: Request, code: str | None = None) -> Response:
        """Readings beyond a threshold (value > high or < low), oldest first, paginated."""
        sensor = self.get_object()
        start, end = query_range(request.query_params)
        page = self.paginate_queryset(selectors.breaches_for(sensor=sensor, start=start, end=end))
        return self.get_paginated_response(BreachSerializer(page, many=True).data)

    @extend_schema(
        parameters=[*RANGE_PARAMETERS, OpenApiParameter("open", bool)],
        responses={200: AlertSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def alerts(self, request: Request, code: str | None = None) -> Response:
        """The sensor's alerts overlapping the range, newest first, paginated."""
        sensor = self.get_object()
        start, end = query_range(request.query_params)
        is_open = query_bool(request.query_params, "open")
        alerts = selectors.alerts_for(sensor=sensor, start=start, end=end, is_open=is_open)
        page = self.paginate_queryset(alerts)
        return self.get_paginated_response(AlertSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"alerts/(?P<alert_id>[0-9]{1,18})/acknowledge",
        permission_classes=[IsStaff],
    )
    def acknowledge(
        self, request: Request, code: str | None = None, alert_id: str = ""
    ) -> Response:
        """Staff acknowledge an alert; a second acknowledgement is 409."""
        sensor = self.get_object()
        alert = get_object_or_404(Alert, pk=int(alert_id), sensor=sensor)
        alert = services.alert_acknowledge(alert_id=alert.pk, user=signed_in_user(request))
        return Response(AlertSerializer(alert).data)

    @extend_schema(
        parameters=[
            *RANGE_PARAMETERS,
            OpenApiParameter("bucket", str, description="e.g. 30s, 15min, 1h, 1d (default 1h)"),
        ],
        responses={200: StatBucketSerializer(many=True)},
    )
    # Not paginated (a bare list of buckets): say so, or the schema documents a paginated body.
    # Up to 10,000 buckets of plain numbers: written by orjson (8,334: 78 -> 6 ms of CPU).
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        renderer_classes=renderers.renderer_classes(),
    )
    def stats(self, request: Request, code: str | None = None) -> Response:
        """count/min/max/mean per time bucket, oldest first."""
        sensor = self.get_object()
        start, end = query_range(request.query_params)
        try:
            bucket = parse_bucket(request.query_params.get("bucket") or "1h")
        except ValueError as exc:
            raise InvalidInput(details={"bucket": [str(exc)]}) from None
        table = selectors.stats_for(sensor=sensor, start=start, end=end, bucket=bucket)
        return Response(table.as_json())


def _plot_size(request: Request, name: str, bounds: tuple[int, int, int]) -> int:
    low, high, default = bounds
    return query_int(request.query_params, name, default=default, minimum=low, maximum=high)


def _plot_response(request: Request, sensors: list[Sensor], *, title: str) -> HttpResponse:
    start, end = query_range(request.query_params)
    width = _plot_size(request, "width", PLOT_WIDTH)
    height = _plot_size(request, "height", PLOT_HEIGHT)
    series, first, last = selectors.plot_series_for(
        sensors=sensors, start=start, end=end, columns=width
    )
    png = render_plot(series, width=width, height=height, title=title, start=first, end=last)
    return binary_response(png, content_type="image/png")


class ReadingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Readings: anyone lists; devices with ``sensors.add_reading`` post batches."""

    serializer_class = ReadingSerializer
    # Anyone reads; writing readings needs ``sensors.add_reading`` (a device's token) or staff.
    permission_classes = [StaffOrPermission.of("sensors.add_reading", anyone_reads=True)]
    key_scopes = {"write": "readings:write"}
    # Every value of a batch is checked by the readings parser: no serializer needs JSONObject.
    parser_classes = [PlainJSONParser]
    filter_backends: list = []

    @property
    def throttle_scope(self) -> str | None:
        request = getattr(self, "request", None)
        return "readings" if request is not None and request.method == "POST" else None

    def get_queryset(self):
        params = self.request.query_params
        start, end = query_range(params)
        sensor = None
        code = params.get("sensor")
        if code:
            sensor = Sensor.objects.filter(code=code).first()
            if sensor is None:
                raise InvalidInput(details={"sensor": [f"Unknown sensor code {code[:60]!r}."]})
        readings = selectors.readings_in_range(sensor=sensor, start=start, end=end)
        # (sensor, timestamp) is the unique index: this order is an index scan, never a sort.
        return readings.select_related("sensor").order_by("sensor_id", "timestamp")

    @extend_schema(
        parameters=[*RANGE_PARAMETERS, OpenApiParameter("sensor", str)],
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={
            # The parser's own description of a reading (no serializer restates its rules).
            "application/json": {
                "oneOf": [
                    reading_json_schema(),
                    {"type": "array", "items": reading_json_schema(), "maxItems": MAX_BATCH},
                ]
            }
        },
        responses={201: IngestResultSerializer, 200: IngestResultSerializer},
        description=(
            "One reading or a list of up to 10,000, stored in one transaction: any invalid row "
            "is a 400 with errors keyed by row index and nothing is stored. Re-sent readings "
            "(same sensor and timestamp) are not duplicated: 200 when nothing was new."
        ),
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        result = services.readings_ingest(
            payload=request.data, allowed_sensors=key_sensor_limit(request)
        )
        body = {
            "received": result.received,
            "created": result.created,
            "duplicates": result.duplicates,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class SensorPlotView(APIView):
    """The sensor's readings as a PNG: line, dashed thresholds, breach points.

    Routed in urls.py without a trailing slash: the path ends in ``.png``.
    """

    content_negotiation_class = BinaryOrJsonErrors

    @extend_schema(
        parameters=[*RANGE_PARAMETERS, *SIZE_PARAMETERS],
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request: Request, code: str) -> HttpResponse:
        sensor = get_object_or_404(Sensor, code=code)
        return _plot_response(request, [sensor], title=f"Sensor {sensor.code}")


class ReadingsPlotView(APIView):
    """Several sensors on one PNG: ``?sensors=A,B,C&from=&to=&width=&height=``."""

    content_negotiation_class = BinaryOrJsonErrors

    @extend_schema(
        parameters=[
            OpenApiParameter("sensors", str, required=True, description="Codes, comma-separated"),
            *RANGE_PARAMETERS,
            *SIZE_PARAMETERS,
        ],
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request: Request) -> HttpResponse:
        raw = request.query_params.get("sensors", "")
        codes = list(dict.fromkeys(code.strip() for code in raw.split(",") if code.strip()))
        if not codes:
            raise InvalidInput(details={"sensors": ["Give one or more sensor codes, e.g. A,B,C."]})
        if len(codes) > MAX_PLOT_SENSORS:
            message = f"At most {MAX_PLOT_SENSORS} sensors per plot."
            raise InvalidInput(details={"sensors": [message]})
        found = {sensor.code: sensor for sensor in Sensor.objects.filter(code__in=codes)}
        unknown = [code for code in codes if code not in found]
        if unknown:
            names = ", ".join(code[:60] for code in unknown)
            raise InvalidInput(details={"sensors": [f"Unknown sensor codes: {names}."]})
        sensors = [found[code] for code in codes]
        return _plot_response(request, sensors, title="Sensors " + ", ".join(codes))
