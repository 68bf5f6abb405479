"""The API's cache paths on a real Redis: the throttle counter, the response cache, the client."""

import uuid

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from frontend_api.caching import bump_content_generation
from frontend_api.models import WebhookSubscription

pytestmark = [pytest.mark.django_db, pytest.mark.integration, pytest.mark.urls("api_test_views")]


@pytest.fixture
def redis_cache():
    """The production cache backend on the real Redis, under a prefix of this test's own."""
    prefix = f"pesa-test-{uuid.uuid4().hex}"
    config = {
        "default": {
            "BACKEND": "cms.cache.PesaRedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=config):
        cache = caches["default"]
        yield cache
        client = cache.redis_client()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@pytest.fixture
def thing():
    return WebhookSubscription.objects.create(name="Alpha", url="https://example.org/a")


def test_throttle_counts_each_client_in_redis_and_says_when_to_retry(
    client, thing, redis_cache, settings
):
    settings.PESA_API_THROTTLE_RATE = "2/minute"

    statuses = [
        client.get("/api/v1/things/", REMOTE_ADDR="192.0.2.7").status_code for _ in range(3)
    ]
    refused = client.get("/api/v1/things/", REMOTE_ADDR="192.0.2.7")
    other_client = client.get("/api/v1/things/", REMOTE_ADDR="192.0.2.8")

    assert statuses == [200, 200, 429]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert other_client.status_code == 200
    counters = list(redis_cache.redis_client().scan_iter(f"{redis_cache.key_prefix}:*throttle*"))
    assert len(counters) == 2
    assert all(0 < redis_cache.redis_client().ttl(key) <= 61 for key in counters)


def test_response_cache_hits_in_redis_until_the_generation_moves(
    client, thing, redis_cache, settings
):
    settings.PESA_API_RESPONSE_CACHE = True

    first = client.get("/api/v1/things/")
    WebhookSubscription.objects.create(name="Beta", url="https://example.org/b")
    cached = client.get("/api/v1/things/")
    bump_content_generation()
    fresh = client.get("/api/v1/things/")

    assert not first.has_header("X-Cache")
    assert cached["X-Cache"] == "HIT"
    assert cached.json()["count"] == 1
    assert fresh.json()["count"] == 2
    assert not fresh.has_header("X-Cache")


def test_the_cache_keeps_one_redis_client_per_pool(redis_cache):
    backend = redis_cache._cache

    assert backend.get_client() is backend.get_client(write=True)
    redis_cache.set("k", 1)
    assert redis_cache.get("k") == 1
