from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response
from storages.backends.s3 import S3Storage

from exports.storage import S3BucketMissing, s3_bucket_check
from targets_site.exceptions import error_body
from targets_site.permissions import AllowAny

logger = logging.getLogger("targets.health")

# Named routes the API root lists when their app provides them.
API_ROOT_ROUTES = {
    "items": "item-list",
    "sensors": "sensor-list",
    "readings": "reading-list",
    "plots": "plot-readings",
    "players": "player-list",
    "rounds": "round-list",
    "scores": "score-list",
    "leaderboards": "leaderboard-list",
    "exports": "export-list",
    "notification-channels": "notificationchannel-list",
    "notifications": "notification-list",
    "token": "auth-token",
}


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else on purpose."""
    return JsonResponse({"status": "ok"})


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the export storage both answer."""
    checks: dict[str, str] = {}
    reasons: dict[str, str] = {}  # said plainly where the fix is the operator's, not a retry
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        logger.warning("readiness: database check failed", exc_info=True)
        checks["database"] = "unavailable"
    try:
        _probe_storage(storages["exports"])
        checks["exports_storage"] = "ok"
    except LowDiskSpace as exc:
        logger.warning("readiness: %s", exc)
        checks["exports_storage"] = "low_disk_space"
    except S3BucketMissing as exc:
        logger.warning("readiness: %s", exc)
        checks["exports_storage"] = "bucket_missing"
        reasons["exports_storage"] = str(exc)
    except Exception:
        logger.warning("readiness: export storage check failed", exc_info=True)
        checks["exports_storage"] = "unavailable"
    failed = sorted(name for name, state in checks.items() if state != "ok")
    body: dict[str, object] = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    if reasons:
        body["reasons"] = reasons
    return JsonResponse(body, status=503 if failed else 200)


class LowDiskSpace(OSError):
    """The export directory's file system has less free space than READYZ_MIN_FREE_MB."""


def _probe_storage(storage: Storage) -> None:
    """Raise unless the storage could take a new file.

    ``exists()`` on a local directory that is missing or read-only just answers False, so the
    local case checks that the directory (or the parent it would be created in) is writable, and
    that its file system has READYZ_MIN_FREE_MB free: a full disk fails every export.
    """
    if isinstance(storage, FileSystemStorage):
        directory = Path(storage.location)
        while not directory.exists() and directory != directory.parent:
            directory = directory.parent
        if not (directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)):
            raise OSError(f"export directory {storage.location} is not writable")
        free_mb = shutil.disk_usage(directory).free // (1024 * 1024)
        if free_mb < settings.READYZ_MIN_FREE_MB:
            raise LowDiskSpace(
                f"export directory {storage.location} has {free_mb} MB free, "
                f"below READYZ_MIN_FREE_MB={settings.READYZ_MIN_FREE_MB}"
            )
        return
    if isinstance(storage, S3Storage):
        s3_bucket_check(storage)
        return
    storage.exists("readyz-probe")


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request) -> Response:
    links = {}
    for name, route in API_ROOT_ROUTES.items():
        try:
            links[name] = request.build_absolute_uri(reverse(route))
        except NoReverseMatch:
            continue
    links["schema"] = request.build_absolute_uri(reverse("schema"))
    links["docs"] = request.build_absolute_uri(reverse("swagger-ui"))
    return Response(links)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler400(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        message = "You do not have permission to perform this action."
        return JsonResponse(error_body("permission_denied", message), status=403)
    return defaults.permission_denied(request, exception)


@csrf_exempt
def api_not_found(request: HttpRequest) -> JsonResponse:
    # CSRF-exempt: an unknown path is a 404 whatever the method, never an HTML CSRF page.
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        message = "CSRF verification failed; API clients should authenticate with a token."
        return JsonResponse(error_body("csrf_failed", message), status=403)
    return csrf.csrf_failure(request, reason=reason)


def handler404(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        message = "An internal error occurred; it has been logged."
        return JsonResponse(error_body("server_error", message), status=500)
    return defaults.server_error(request)


# The landing page is anonymous and unthrottled: its health checks (a database round trip, a
# cache round trip, a storage probe that may be an S3 request) run at most once per this many
# seconds per process, whatever the traffic.
LANDING_HEALTH_SECONDS = 10


class _LandingHealth(TypedDict):
    at: datetime | None
    checks: list[dict[str, object]]


_landing_health: _LandingHealth = {"at": None, "checks": []}
_landing_lock = threading.Lock()


def _landing_checks() -> list[dict[str, object]]:
    checks: list[dict[str, object]] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks.append({"name": "Database", "ok": True, "state": "ok"})
    except Exception:
        logger.warning("landing page: database check failed", exc_info=True)
        checks.append({"name": "Database", "ok": False, "state": "unavailable"})
    try:
        probe = f"landing-probe-{uuid.uuid4().hex}"
        cache.set(probe, "1", timeout=5)
        answered = cache.get(probe) == "1"
        cache.delete(probe)
        checks.append(
            {"name": "Cache", "ok": answered, "state": "ok" if answered else "not answering"}
        )
    except Exception:
        logger.warning("landing page: cache check failed", exc_info=True)
        checks.append({"name": "Cache", "ok": False, "state": "unavailable"})
    try:
        _probe_storage(storages["exports"])
        checks.append({"name": "Export storage", "ok": True, "state": "ok"})
    except LowDiskSpace:
        checks.append({"name": "Export storage", "ok": False, "state": "low on disk space"})
    except Exception:
        logger.warning("landing page: export storage check failed", exc_info=True)
        checks.append({"name": "Export storage", "ok": False, "state": "unavailable"})
    return checks


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """``GET /``: what Targets is, where to go, and whether its backing services answer."""
    now = timezone.now()
    with _landing_lock:
        checked_at = _landing_health["at"]
        if checked_at is None or (now - checked_at).total_seconds() >= LANDING_HEALTH_SECONDS:
            _landing_health.update({"at": now, "checks": _landing_checks()})
        context = {
            "checks": _landing_health["checks"],
            "checked_at": _landing_health["at"],
            "cache_seconds": LANDING_HEALTH_SECONDS,
        }
    return render(request, "targets_site/landing.html", context)
