import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from frontend_api.models import WebhookSubscription

pytestmark = [pytest.mark.django_db, pytest.mark.urls("api_test_views")]


@pytest.fixture
def thing():
    return WebhookSubscription.objects.create(name="Alpha", url="https://example.org/a")


def test_throttle_answers_429_problem_with_retry_after(client, thing, settings):
    settings.PESA_API_THROTTLE_RATE = "2/minute"

    statuses = [client.get("/api/v1/things/").status_code for _ in range(3)]
    response = client.get("/api/v1/things/")

    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["retry_after"] == int(response["Retry-After"])


def test_throttle_counts_per_client_ip(client, thing, settings):
    settings.PESA_API_THROTTLE_RATE = "1/minute"

    client.get("/api/v1/things/", REMOTE_ADDR="192.0.2.1")

    assert client.get("/api/v1/things/", REMOTE_ADDR="192.0.2.1").status_code == 429
    assert client.get("/api/v1/things/", REMOTE_ADDR="192.0.2.2").status_code == 200


def test_cached_responses_are_throttled_too(client, thing, settings):
    settings.PESA_API_RESPONSE_CACHE = True
    settings.PESA_API_THROTTLE_RATE = "1/minute"

    client.get("/api/v1/things/")

    assert client.get("/api/v1/things/").status_code == 429


def test_cors_preflight_from_listed_origin(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://perhe.example"]

    response = client.options(
        "/api/v1/things/",
        headers={"Origin": "https://perhe.example", "Access-Control-Request-Method": "GET"},
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://perhe.example"
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "POST" not in response["Access-Control-Allow-Methods"]


def test_cors_refuses_unlisted_origin_and_exposes_headers_to_listed(client, thing, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://perhe.example"]

    stranger = client.get("/api/v1/things/", headers={"Origin": "https://evil.example"})
    friend = client.get("/api/v1/things/", headers={"Origin": "https://perhe.example"})

    assert not stranger.has_header("Access-Control-Allow-Origin")
    assert friend["Access-Control-Allow-Origin"] == "https://perhe.example"
    assert "ETag" in friend["Access-Control-Expose-Headers"]


def test_logged_in_session_changes_nothing(client, thing):
    anonymous = client.get("/api/v1/things/")
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)

    logged_in = client.get("/api/v1/things/")

    assert logged_in.content == anonymous.content
    assert "sessionid" not in logged_in.cookies
    assert "csrftoken" not in logged_in.cookies


def test_no_csrf_token_needed_even_with_a_session_cookie(thing):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_user("someone", password="pw"))

    response = client.post("/api/v1/echo/", {"a": 1}, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"received": {"a": 1}}


def test_api_has_no_session_authentication(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] == []


@pytest.mark.urls("cms.urls")
def test_real_schema_endpoint_gets_etag_and_cache_control(client):
    response = client.get(reverse("api-schema"), {"format": "json"})

    assert response.status_code == 200
    assert response.has_header("ETag")
    assert response["Cache-Control"].startswith("public")


def test_with_the_response_cache_on_each_request_is_counted_once(client, thing, settings):
    settings.PESA_API_RESPONSE_CACHE = True
    settings.PESA_API_THROTTLE_RATE = "2/minute"

    statuses = [client.get("/api/v1/things/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]  # a miss counted twice would refuse the second


def test_a_cache_hit_answers_before_the_database_and_keeps_http_caching(
    client, thing, settings, django_assert_num_queries
):
    settings.PESA_API_RESPONSE_CACHE = True
    first = client.get("/api/v1/things/?lang=sv")

    with django_assert_num_queries(0):
        hit = client.get("/api/v1/things/?lang=sv")
    not_modified = client.get("/api/v1/things/?lang=sv", HTTP_IF_NONE_MATCH=first["ETag"])

    assert hit["X-Cache"] == "HIT"
    assert hit.content == first.content
    assert hit["ETag"] == first["ETag"]
    assert hit["Content-Language"] == first["Content-Language"]
    assert "Accept-Language" in hit["Vary"]
    assert not_modified.status_code == 304


def test_an_unsupported_language_is_refused_even_with_the_cache_on(client, thing, settings):
    settings.PESA_API_RESPONSE_CACHE = True

    response = client.get("/api/v1/things/?lang=xx")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
