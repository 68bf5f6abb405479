"""/metrics: Prometheus text format, for the holder of PESA_METRICS_TOKEN only."""

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db

TOKEN = "scraper-token-0123456789"


@pytest.fixture
def metrics_token(settings):
    settings.PESA_METRICS_TOKEN = TOKEN


def scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def series(body: bytes) -> dict[str, dict[tuple, float]]:
    """metric sample name → {sorted label items: value}."""
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def responses_counted() -> float:
    return REGISTRY.get_sample_value("django_http_responses_before_middlewares_total") or 0.0


def requests_timed() -> float:
    name = "django_http_requests_latency_including_middlewares_seconds_count"
    return REGISTRY.get_sample_value(name) or 0.0


def test_metrics_are_not_found_without_a_configured_token(client, settings):
    settings.PESA_METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert scrape(client, token="").status_code == 404


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}"])
def test_metrics_require_the_bearer_token(client, metrics_token, authorization):
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"django_http" not in response.content


def test_metrics_answer_prometheus_text_to_the_token_holder(client, metrics_token):
    response = scrape(client)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-cache" in response["Cache-Control"]


def test_request_counts_and_latencies_are_exported_after_a_request(client, metrics_token):
    client.get("/api/v1/articles/")

    found = series(scrape(client).content)

    assert found["django_http_requests_total_by_method_total"][(("method", "GET"),)] >= 1
    assert found["django_http_responses_total_by_status_total"][(("status", "200"),)] >= 1
    assert found["django_http_requests_latency_including_middlewares_seconds_count"][()] >= 1
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in found


def test_a_cached_api_hit_is_counted_like_any_response(client, settings, home_page):
    settings.PESA_API_RESPONSE_CACHE = True
    ArticlePageFactory(parent=TopicPageFactory(parent=home_page))
    counted, timed = responses_counted(), requests_timed()

    miss = client.get("/api/v1/articles/")
    hit = client.get("/api/v1/articles/")

    assert (miss.status_code, hit.status_code, hit["X-Cache"]) == (200, 200, "HIT")
    assert responses_counted() - counted == 2
    assert requests_timed() - timed == 2
