"""The project's URLs plus views that fail on purpose, for the error-shape tests only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from targets_site import errors

handler400 = "targets_site.views.handler400"
handler403 = "targets_site.views.handler403"
handler404 = "targets_site.views.handler404"
handler500 = "targets_site.views.handler500"

SECRET = "secret-sauce-from-the-settings"


@api_view(["GET"])
@permission_classes([AllowAny])
def drf_boom(request):
    raise RuntimeError(f"the database password is {SECRET}")


DOMAIN_ERRORS = {
    "invalid": errors.InvalidInput(details={"name": ["Required."]}),
    "rows": errors.InvalidInput(details=[{}, {"value": ["Not a number."]}]),
    "coded": errors.InvalidInput.for_field("points", "Too many points.", code="points_exceed_hits"),
    "forbidden": errors.PermissionDenied("Not yours."),
    "missing": errors.NotFound("No such sensor."),
    "conflict": errors.Conflict("Not enough stock."),
    "stale": errors.PreconditionFailed(),
    "gone": errors.Gone("The file was pruned."),
    "large": errors.TooLarge("Too many readings."),
    "mismatch": errors.Unprocessable("Same id, different body.", code="idempotency_mismatch"),
    "down": errors.Unavailable("The cache is down."),
}


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def domain_error(request, kind):
    raise DOMAIN_ERRORS[kind]


def django_boom(request):
    raise RuntimeError(SECRET)


def django_not_found(request):
    raise Http404(SECRET)


def django_forbidden(request):
    raise PermissionDenied(SECRET)


def django_suspicious(request):
    raise SuspiciousOperation(SECRET)


urlpatterns = [
    path("api/test/drf-boom/", drf_boom),
    path("api/test/django-boom/", django_boom),
    path("api/test/domain/<str:kind>/", domain_error),
    path("api/test/django-404/", django_not_found),
    path("api/test/django-403/", django_forbidden),
    path("api/test/django-400/", django_suspicious),
    path("site/boom/", django_boom),
    path("", include("targets_site.urls")),
]
