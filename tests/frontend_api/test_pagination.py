import pytest

from frontend_api.models import WebhookSubscription
from frontend_api.pagination import planner_estimate

pytestmark = [pytest.mark.django_db, pytest.mark.urls("api_test_views")]


@pytest.fixture
def five_things():
    return WebhookSubscription.objects.bulk_create(
        WebhookSubscription(name=f"Thing {n}", url=f"https://example.org/{n}") for n in range(5)
    )


def test_envelope_has_count_links_results_and_meta(client, five_things):
    body = client.get("/api/v1/things/", {"page_size": 2}).json()

    assert list(body) == ["count", "next", "previous", "results", "meta"]
    assert body["count"] == 5
    assert body["next"].endswith("/api/v1/things/?page=2&page_size=2")
    assert body["previous"] is None
    assert len(body["results"]) == 2
    assert body["meta"] == {"lang": "fi", "fallback": False, "page": 1, "page_size": 2}


@pytest.mark.parametrize(
    "params",
    [{"page_size": "101"}, {"page_size": "0"}, {"page_size": "ten"}, {"page": "0"}, {"page": "x"}],
)
def test_bad_page_or_page_size_is_a_400(client, params):
    response = client.get("/api/v1/things/", params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == set(params)


def test_page_size_100_is_allowed(client, five_things):
    assert client.get("/api/v1/things/", {"page_size": "100"}).status_code == 200


def test_page_past_the_end_is_a_404(client, five_things):
    assert client.get("/api/v1/things/", {"page": "9"}).status_code == 404


def test_count_is_capped_on_large_sets(client, five_things, settings):
    settings.PESA_API_COUNT_CAP = 3

    body = client.get("/api/v1/things/", {"page_size": 2}).json()

    assert body["count"] == 3
    assert body["meta"]["count_capped"] is True
    assert body["next"] is not None


def test_list_costs_two_queries_with_capped_count(client, five_things, django_assert_num_queries):
    with django_assert_num_queries(2):
        client.get("/api/v1/things/")


def test_planner_estimate_is_a_number_on_postgresql(five_things):
    assert planner_estimate(WebhookSubscription.objects.all()) >= 1


def test_cursor_pagination_walks_without_count(client, five_things):
    first = client.get("/api/v1/cursor-things/", {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    assert first["count"] is None
    assert len(first["results"]) + len(second["results"]) == 5
    assert second["next"] is None
    assert first["meta"]["lang"] == "fi"


def test_tampered_cursor_is_a_400(client, five_things):
    response = client.get("/api/v1/cursor-things/", {"cursor": "bz1hYmM="})

    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]
