from __future__ import annotations

from rest_framework.routers import SimpleRouter

from notifications.views import NotificationChannelViewSet, NotificationViewSet

router = SimpleRouter()
router.register("notification-channels", NotificationChannelViewSet, basename="notificationchannel")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
