"""Sync figures on /metrics, read from the database at scrape time."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from federation.models import SyncRun
from federation.selectors import sync_metrics
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db

TOKEN = "scraper-token-0123456789"


def scraped(client, settings) -> dict[str, dict[tuple, float]]:
    settings.PESA_METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_a_sync_run_shows_as_runs_records_written_issues_and_last_success_age(
    client, settings, source, feed, sync
):
    feed.items = [
        {"id": "a", "name": "Neuvola"},
        {"id": "b", "name": "Perhetyö", "repairs": ["trimmed"]},
        {"id": "c", "error": "name missing"},
    ]
    run = sync(source)
    assert run.outcome == SyncRun.Outcome.SUCCEEDED

    found = scraped(client, settings)

    slug = source.slug
    assert found["pesa_sync_runs_total"][(("outcome", "succeeded"), ("source", slug))] == 1
    written = found["pesa_sync_records_written_total"]
    assert written[(("action", "created"), ("source", slug))] == 2
    assert found["pesa_sync_records_rejected_total"][(("source", slug),)] == 1
    issues = found["pesa_sync_record_issues_total"]
    assert issues[(("severity", "error"), ("source", slug))] == 1
    assert issues[(("severity", "warning"), ("source", slug))] == 1
    age = found["pesa_sync_last_success_age_seconds"][(("source", slug),)]
    assert 0 <= age < 60


def test_a_failed_run_counts_by_outcome_and_never_succeeded_source_has_infinite_age(
    client, settings, source, feed, sync
):
    feed.status = 503
    sync(source)

    found = scraped(client, settings)

    assert found["pesa_sync_runs_total"][(("outcome", "failed"), ("source", source.slug))] == 1
    assert found["pesa_sync_last_success_age_seconds"][(("source", source.slug),)] == float("inf")


def test_sync_figures_take_three_queries_however_many_sources(django_assert_num_queries):
    for _ in range(5):
        SyncRun.objects.create(source=SourceFactory(), trigger="cli", mode="full")

    with django_assert_num_queries(3):
        figures = sync_metrics()

    assert len(figures.last_success) == 5
