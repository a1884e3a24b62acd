from __future__ import annotations

from rest_framework.routers import SimpleRouter

from items.views import ItemViewSet

router = SimpleRouter()
router.register("items", ItemViewSet, basename="item")

urlpatterns = router.urls
