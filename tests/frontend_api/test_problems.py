import pytest
from django.test import Client

from frontend_api.models import WebhookSubscription

pytestmark = [pytest.mark.django_db, pytest.mark.urls("api_test_views")]

PROBLEM = "application/problem+json"


def test_unknown_query_parameter_is_a_400_naming_the_allowed_ones(client):
    response = client.get("/api/v1/things/", {"municipality": "091", "colour": "red"})

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert "colour, municipality" in body["detail"]
    assert set(body["errors"]) == {"colour", "municipality"}
    assert body["allowed_parameters"] == [
        "lang",
        "page",
        "page_size",
        "active",
        "name",
        "created_after",
        "created_before",
    ]


def test_detail_accepts_no_list_parameters(client):
    thing = WebhookSubscription.objects.create(name="Alpha", url="https://example.org/hook")

    response = client.get(f"/api/v1/things/{thing.pk}/", {"page": "2"})

    assert response.status_code == 400
    assert response.json()["allowed_parameters"] == ["lang"]


def test_invalid_filter_value_is_a_400_problem(client):
    response = client.get("/api/v1/things/", {"created_after": "yesterday"})

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert "created" in response.json()["errors"]


def test_view_level_validation_error_is_a_problem_with_field_errors(client):
    response = client.get("/api/v1/search/")

    assert response.status_code == 400
    assert response.json()["errors"] == {"q": ["This parameter is required."]}


def test_missing_object_is_a_404_problem(client):
    response = client.get("/api/v1/things/999999/")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["title"] == "Not Found"


def test_write_method_on_read_only_endpoint_is_a_405_problem(client):
    response = client.post("/api/v1/things/", {}, content_type="application/json")

    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert "GET" in response["Allow"]
    assert "GET" in response.json()["allowed_methods"]


def test_unsupported_accept_is_a_406_problem(client):
    response = client.get("/api/v1/things/", headers={"Accept": "text/html"})

    assert response.status_code == 406
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 406


def test_unsupported_media_type_is_a_415_problem(client):
    response = client.post("/api/v1/echo/", "a=b", content_type="text/plain")

    assert response.status_code == 415
    assert response["Content-Type"] == PROBLEM


def test_problem_response_helper_carries_extension_members(client):
    response = client.post("/api/v1/too-large/")

    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Request Entity Too Large",
        "status": 413,
        "detail": "At most 10 MB.",
        "max_bytes": 10 * 1024 * 1024,
    }


def test_unrouted_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["path"] == "/api/v1/no-such-thing/"


def test_crash_is_a_json_500_without_internals():
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/boom/")

    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    assert "boom" not in response.content.decode()


def test_non_api_404_stays_html(client):
    response = client.get("/elsewhere/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
