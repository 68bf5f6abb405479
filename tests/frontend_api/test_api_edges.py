"""The API's edges on the real urlconf: no input gives a 5xx, and every error under /api/
is a problem+json naming what was wrong, in DEBUG too."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
LISTS = (
    "/api/v1/articles/",
    "/api/v1/services/",
    "/api/v1/organizations/",
    "/api/v1/areas/",
    "/api/v1/topics/",
    "/api/v1/vocabularies/target-groups/",
    "/api/v1/search/?q=neuvola",
)


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def assert_problem(response, status, parameter=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    if parameter is not None:
        assert parameter in body["errors"]
        assert f"`{parameter}`" in body["detail"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("page", ["99999999999999999999999", "9223372036854775807", "100001"])
def test_page_beyond_the_bound_is_a_400_naming_page(client, url, page):
    joiner = "&" if "?" in url else "?"

    response = client.get(f"{url}{joiner}page={page}")

    assert_problem(response, 400, "page")


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/search/?q=a%00b", "q"),
        ("/api/v1/articles/?search=a%00b", "search"),
        ("/api/v1/services/?search=a%1Fb", "search"),
        ("/api/v1/articles/by-path/?path=/fi/a%00b/", "path"),
        ("/api/v1/changes/?since=a%00", "since"),
        ("/api/v1/preview/?token=a%7F", "token"),
        ("/api/v1/organizations/?source=x%0Ay", "source"),
    ],
)
def test_control_characters_in_a_query_value_are_a_400_naming_the_parameter(client, url, parameter):
    assert_problem(client.get(url), 400, parameter)


@pytest.mark.parametrize("parameter", ["q", "municipality"])
def test_an_over_long_query_value_is_a_400_naming_the_parameter(client, parameter):
    params = {"q": "neuvola", parameter: "x" * 5000}

    assert_problem(client.get("/api/v1/search/", params), 400, parameter)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "TRACE"])
@pytest.mark.parametrize("path", ["/api/v1/areas/%C2%84/", "/api/nope", "/api/v1/nope/", "/api/"])
def test_unknown_paths_under_api_are_a_404_problem(client, settings, debug, method, path):
    settings.DEBUG = debug

    assert_problem(client.generic(method, path), 404)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH", "DELETE", "POST"])
def test_an_unknown_method_is_a_405_problem_with_allow(client, settings, debug, method):
    settings.DEBUG = debug

    response = client.generic(method, "/api/v1/articles/")

    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_a_path_missing_its_slash_is_still_redirected_to_the_endpoint(client):
    response = client.get("/api/v1/articles?page=2")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/articles/?page=2"


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_inside_a_view_is_a_500_problem_without_internals(
    client, settings, monkeypatch, debug
):
    settings.DEBUG = debug

    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("frontend_api.views.search.search_index", boom)

    response = client.get("/api/v1/search/", {"q": "neuvola"})

    assert_problem(response, 500)
    assert "secret internals" not in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_a_disallowed_host_under_api_is_a_400_problem_in_debug_too(client, settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["pesa.example.fi"]

    assert_problem(client.get("/api/v1/articles/", headers={"Host": "evil.example"}), 400)


@pytest.mark.parametrize("url", ["/api/v1/articles/", "/api/v1/schema/"])
def test_problems_are_in_english_and_json_whatever_the_client_asks_for(client, url):
    response = client.generic("TRACE", url, headers={"Accept-Language": "fi", "Accept": "*/*"})

    assert_problem(response, 405)
    assert response.json()["detail"] == 'Method "TRACE" not allowed.'


def test_radius_without_near_limits_nothing_but_is_still_checked(client):
    assert client.get("/api/v1/services/", {"radius_km": "5"}).status_code == 200
    assert_problem(client.get("/api/v1/services/", {"radius_km": "500"}), 400, "radius_km")
