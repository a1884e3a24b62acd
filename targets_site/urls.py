from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from targets_site import auth, metrics, views

# The admin modules are imported here, not at every command's start-up (targets_site/admin_apps.py).
admin.autodiscover()

handler400 = "targets_site.views.handler400"
handler403 = "targets_site.views.handler403"
handler404 = "targets_site.views.handler404"
handler500 = "targets_site.views.handler500"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", views.api_root, name="api-root"),
    path("api/v1/auth/token/", auth.ObtainTokenView.as_view(), name="auth-token"),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("items.urls")),
    path("api/v1/", include("sensors.urls")),
    path("api/v1/", include("games.urls")),
    path("api/v1/", include("exports.urls")),
    path("api/v1/", include("notifications.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Last: any other /api/ path is a JSON 404, with debug on as well as off.
    re_path(r"^api/", views.api_not_found),
]
