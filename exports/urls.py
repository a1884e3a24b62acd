from __future__ import annotations

from rest_framework.routers import SimpleRouter

from exports.views import ExportScheduleViewSet, ExportViewSet

router = SimpleRouter()
router.register("exports", ExportViewSet, basename="export")
router.register("export-schedules", ExportScheduleViewSet, basename="export-schedule")

urlpatterns = router.urls
