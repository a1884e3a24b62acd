from __future__ import annotations

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from sensors.views import ReadingsPlotView, ReadingViewSet, SensorPlotView, SensorViewSet

router = SimpleRouter()
router.register("sensors", SensorViewSet, basename="sensor")
router.register("readings", ReadingViewSet, basename="reading")

urlpatterns = [
    *router.urls,
    re_path(
        rf"^sensors/(?P<code>{SensorViewSet.lookup_value_regex})/plot\.png$",
        SensorPlotView.as_view(),
        name="sensor-plot",
    ),
    path("plots/readings.png", ReadingsPlotView.as_view(), name="plot-readings"),
]
