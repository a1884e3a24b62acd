"""Prometheus metrics: request latency by view and status, and the domain's counts.

Built on ``prometheus_client`` directly (not django-prometheus): one histogram for requests, two
counters written by services, and gauges read from the database at scrape time with bounded
queries. django-prometheus would also wrap every database and cache call and export several
series per view that nobody here reads; its gunicorn story is the same multiprocess directory
anyway.

Under gunicorn, every worker is its own process: ``PROMETHEUS_MULTIPROC_DIR`` (set by
``gunicorn.conf.py``) makes each worker write its samples to memory-mapped files there, and a
scrape of any worker adds up all of them. Without it (runserver, tests, commands) the values
live in the process.

The gauges are computed per scrape; each query reads at most ``GAUGE_CAP`` rows through an
index, so a scrape costs the same whatever the size of the tables.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

GAUGE_CAP = 100_000
RECENT_WINDOW = 10_000
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_LATENCY = Histogram(
    "targets_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by view, method and status.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
READINGS_INGESTED = Counter(
    "targets_readings_ingested", "Readings stored (new rows; re-sent duplicates not counted)."
)
SCORES_SUBMITTED = Counter("targets_scores_submitted", "Scores stored (re-sends not counted).")
SCORES_VERIFIED = Counter(
    "targets_scores_verified", "Stored scores whose replay the server re-ran to the same result."
)


def readings_ingested(count: int) -> None:
    """Count ``count`` new readings once their transaction commits (a rollback counts none)."""
    if count:
        transaction.on_commit(lambda: READINGS_INGESTED.inc(count))


def score_submitted(*, verified: bool) -> None:
    def count() -> None:
        SCORES_SUBMITTED.inc()
        if verified:
            SCORES_VERIFIED.inc()

    transaction.on_commit(count)


class MetricsMiddleware:
    """Times every request into ``REQUEST_LATENCY``.

    The ``view`` label is the URL name (``item-list``, ``admin:index``), never the raw path, so
    the number of series stays bounded whatever clients send.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = (match.view_name or "unnamed") if match is not None else "unresolved"
        method = request.method if request.method in _METHODS else "other"
        REQUEST_LATENCY.labels(view, method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


def _capped_count(queryset, cap: int = GAUGE_CAP) -> int:
    # COUNT over a LIMIT subquery: stops after ``cap`` rows however many match.
    return queryset.values("pk")[:cap].count()


def _recent_by_status(model) -> dict[str, int]:
    """Status counts among the newest ``RECENT_WINDOW`` rows (read through the primary key)."""
    newest = model.objects.order_by("-pk").values("pk")[:RECENT_WINDOW]
    rows = model.objects.filter(pk__in=newest).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows.order_by()}


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


class DomainCollector(Collector):
    """Gauges read from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._alerts()
            yield from self._exports()
            yield from self._notifications()
        except DatabaseError:
            up = GaugeMetricFamily("targets_database_up", "The database answered the scrape.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("targets_database_up", "The database answered the scrape.")
        up.add_metric([], 1)
        yield up

    def _alerts(self) -> Iterator[GaugeMetricFamily]:
        alert = _model("sensors.Alert")
        if alert is None:
            return
        family = GaugeMetricFamily("targets_alerts_open", "Open alerts, by kind.", labels=["kind"])
        # At most one open alert per sensor (a partial unique index): small by construction.
        for kind, _label in alert._meta.get_field("kind").choices:
            family.add_metric(
                [kind], _capped_count(alert.objects.filter(closed_at__isnull=True, kind=kind))
            )
        yield family

    def _exports(self) -> Iterator[GaugeMetricFamily]:
        export = _model("exports.Export")
        if export is None:
            return
        family = GaugeMetricFamily(
            "targets_exports",
            f"Exports by status (each count stops at {GAUGE_CAP}).",
            labels=["status"],
        )
        for status, _label in export._meta.get_field("status").choices:
            family.add_metric([status], _capped_count(export.objects.filter(status=status)))
        yield family

    def _notifications(self) -> Iterator[GaugeMetricFamily]:
        # The notifications app may not be installed (or migrated) yet: no series then.
        notification = _model("notifications.Notification")
        if notification is None:
            return
        pending = GaugeMetricFamily(
            "targets_notifications_pending",
            f"Notifications waiting to be delivered (stops at {GAUGE_CAP}).",
        )
        pending.add_metric([], _capped_count(notification.objects.filter(status="pending")))
        yield pending
        recent = GaugeMetricFamily(
            "targets_notifications_recent",
            f"Status of the newest {RECENT_WINDOW} notifications (dead = failed for good).",
            labels=["status"],
        )
        counts = _recent_by_status(notification)
        for status in ("pending", "sent", "dead"):
            recent.add_metric([status], counts.get(status, 0))
        yield recent


_DOMAIN_REGISTRY = CollectorRegistry(auto_describe=False)
_DOMAIN_REGISTRY.register(DomainCollector())


@lru_cache(maxsize=4)
def _allowed_networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in spec)


def metrics_allowed(request: HttpRequest) -> bool:
    """The caller (as throttles see it: NUM_PROXIES hops back) is in METRICS_ALLOWED_IPS."""
    # Imported here: targets_site.auth pulls in DRF, drf-spectacular (and through it django.test,
    # jinja2, requests, redis), ~0.7 s that every management command paid, as the services
    # that count things import this module.
    from targets_site.auth import client_ip

    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    networks = _allowed_networks(tuple(settings.METRICS_ALLOWED_IPS))
    return any(address in network for network in networks)


@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: Prometheus text; 404 to anyone outside METRICS_ALLOWED_IPS."""
    if not (settings.METRICS_ENABLED and metrics_allowed(request)):
        # A 404, not a 403: nothing tells a stranger that there is something to find here.
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    # The classic text format (0.0.4): every Prometheus version reads it; names are plain ASCII.
    body = generate_latest(registry) + generate_latest(_DOMAIN_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
