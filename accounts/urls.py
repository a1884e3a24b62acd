from __future__ import annotations

from rest_framework.routers import SimpleRouter

from accounts.views import ApiKeyViewSet

router = SimpleRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = router.urls
