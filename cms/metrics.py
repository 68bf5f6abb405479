"""`/metrics` in Prometheus text format, for a scraper holding PESA_METRICS_TOKEN.

Requests are counted and timed by django-prometheus' middleware (per process, or across
processes in prometheus_client's multiprocess mode). Sync figures are read from the
database at scrape time, so runs done by any Celery worker are seen by every web worker.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from federation.selectors import sync_metrics


class SyncCollector(Collector):
    """Sync runs by outcome, records written, record issues, age of the last good run."""

    def collect(self) -> Iterator[Metric]:
        figures = sync_metrics()
        runs = CounterMetricFamily(
            "pesa_sync_runs", "Sync runs by source and outcome.", labels=["source", "outcome"]
        )
        written = CounterMetricFamily(
            "pesa_sync_records_written",
            "Records created, updated or withdrawn by sync runs.",
            labels=["source", "action"],
        )
        rejected = CounterMetricFamily(
            "pesa_sync_records_rejected", "Records rejected by sync runs.", labels=["source"]
        )
        for row in figures.runs:
            runs.add_metric([row["source_slug"], row["run_outcome"]], row["runs"])
            for action in ("created", "updated", "withdrawn"):
                written.add_metric([row["source_slug"], action], row[f"{action}_total"] or 0)
            rejected.add_metric([row["source_slug"]], row["rejected_total"] or 0)
        issues = CounterMetricFamily(
            "pesa_sync_record_issues",
            "Record issues kept by sync runs, by severity.",
            labels=["source", "severity"],
        )
        for row in figures.issues:
            issues.add_metric([row["source_slug"], row["issue_severity"]], row["issues"])
        age = GaugeMetricFamily(
            "pesa_sync_last_success_age_seconds",
            "Seconds since the source's last successful sync run finished (+Inf: never).",
            labels=["source"],
        )
        now = timezone.now()
        for slug, finished_at in figures.last_success.items():
            seconds = (now - finished_at).total_seconds() if finished_at else float("inf")
            age.add_metric([slug], seconds)
        yield from (runs, written, rejected, issues, age)


def request_registry() -> prometheus_client.CollectorRegistry:
    """All processes' request metrics in multiprocess mode, else this process's own."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


def authorized(request: HttpRequest) -> bool:
    token = settings.PESA_METRICS_TOKEN
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


# The classic text format (what generate_latest writes) every Prometheus version reads.
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.PESA_METRICS_TOKEN:
        raise Http404("metrics are off: PESA_METRICS_TOKEN is not set")
    if not authorized(request):
        response = HttpResponse(
            "a bearer token is required\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="pesa-metrics"'
        return response
    sync_registry = prometheus_client.CollectorRegistry(auto_describe=False)
    sync_registry.register(SyncCollector())
    body = prometheus_client.generate_latest(
        request_registry()
    ) + prometheus_client.generate_latest(sync_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
