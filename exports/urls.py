from __future__ import annotations

from rest_framework.routers import SimpleRouter

from exports.views import ExportViewSet

router = SimpleRouter()
router.register("exports", ExportViewSet, basename="export")

urlpatterns = router.urls
