import pytest

from frontend_api.caching import bump_content_generation, content_generation
from frontend_api.models import WebhookSubscription

pytestmark = [pytest.mark.django_db, pytest.mark.urls("api_test_views")]


@pytest.fixture
def response_cache(settings):
    settings.PESA_API_RESPONSE_CACHE = True


@pytest.fixture
def thing():
    return WebhookSubscription.objects.create(name="Alpha", url="https://example.org/a")


def test_get_has_etag_cache_control_and_vary(client, thing, settings):
    settings.PESA_API_CACHE_MAX_AGE = 123

    response = client.get("/api/v1/things/")

    assert response["ETag"].startswith('"')
    assert response["Cache-Control"] == "public, max-age=123"
    assert "Accept-Language" in response["Vary"]


def test_matching_if_none_match_is_a_304(client, thing):
    etag = client.get("/api/v1/things/")["ETag"]

    response = client.get("/api/v1/things/", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_changed_content_changes_the_etag(client, thing):
    etag = client.get("/api/v1/things/")["ETag"]
    WebhookSubscription.objects.create(name="Beta", url="https://example.org/b")

    response = client.get("/api/v1/things/", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag


def test_errors_are_not_stored_by_shared_caches(client):
    response = client.get("/api/v1/things/", {"bogus": "1"})

    assert response["Cache-Control"] == "no-store"
    assert not response.has_header("ETag")


def test_view_may_set_its_own_cache_control(client):
    response = client.get("/api/v1/preview/")

    assert response["Cache-Control"] == "private, no-store"


def test_cached_hit_is_served_without_sql(client, thing, response_cache, django_assert_num_queries):
    first = client.get("/api/v1/things/", {"lang": "sv"})

    with django_assert_num_queries(0):
        second = client.get("/api/v1/things/", {"lang": "sv"})

    assert second.content == first.content
    assert second["X-Cache"] == "HIT"
    assert second["Content-Type"] == "application/json"
    assert second["Content-Language"] == "sv"
    assert second["ETag"] == first["ETag"]


def test_cache_key_includes_the_negotiated_language(client, thing, response_cache):
    finnish = client.get("/api/v1/things/", headers={"Accept-Language": "fi"})
    swedish = client.get("/api/v1/things/", headers={"Accept-Language": "sv"})

    assert finnish.json()["results"][0]["title"] == "Alfa"
    assert swedish.json()["results"][0]["title"] == "Alfa på svenska"
    assert not swedish.has_header("X-Cache")


def test_query_parameter_order_does_not_split_the_cache(client, thing, response_cache):
    client.get("/api/v1/things/?lang=fi&page_size=5")

    assert client.get("/api/v1/things/?page_size=5&lang=fi")["X-Cache"] == "HIT"


def test_bumping_the_generation_retires_cached_responses(client, thing, response_cache):
    client.get("/api/v1/things/")
    WebhookSubscription.objects.create(name="Beta", url="https://example.org/b")
    assert client.get("/api/v1/things/").json()["count"] == 1  # stale, from the cache

    bump_content_generation()

    response = client.get("/api/v1/things/")
    assert response.json()["count"] == 2
    assert not response.has_header("X-Cache")


def test_errors_and_uncacheable_views_are_not_cached(client, response_cache):
    client.get("/api/v1/things/999/")
    client.get("/api/v1/preview/")

    assert client.get("/api/v1/things/999/").status_code == 404
    assert not client.get("/api/v1/preview/").has_header("X-Cache")


def test_generation_survives_eviction_without_reusing_old_numbers():
    from django.core.cache import cache

    first = content_generation()
    bumped = bump_content_generation()
    cache.clear()

    assert bumped == first + 1
    assert content_generation() > bumped


def test_a_response_rendered_across_a_generation_bump_is_never_served(rf):
    from django.http import HttpResponse

    from frontend_api.caching import lookup, response_cache_key, store_response

    key = response_cache_key(rf.get("/api/v1/things/"), lang="fi")
    missed, generation_at_start = lookup(key)
    bump_content_generation()  # content changed while the response was being rendered
    store_response(key, HttpResponse(b"old"), generation=generation_at_start)

    hit, _ = lookup(key)

    assert missed is None
    assert hit is None


def test_a_hit_answers_with_the_stored_etag_without_hashing_the_body_again(
    client, thing, response_cache, monkeypatch
):
    miss = client.get("/api/v1/things/")
    hashed = []
    monkeypatch.setattr(
        "frontend_api.middleware.set_response_etag", lambda response: hashed.append(response)
    )

    hit = client.get("/api/v1/things/")
    not_modified = client.get("/api/v1/things/", headers={"If-None-Match": miss["ETag"]})

    assert hit["X-Cache"] == "HIT"
    assert hit["ETag"] == miss["ETag"]
    assert not_modified.status_code == 304
    assert hashed == []
