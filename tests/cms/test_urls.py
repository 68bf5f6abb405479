import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_api_address_is_a_problem_json_404(client):
    response = client.get("/api/v1/no-such-endpoint/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_a_server_error_under_the_api_says_nothing_about_its_cause(rf):
    from django.urls import get_resolver

    handler = get_resolver().resolve_error_handler(500)
    response = handler(rf.get("/api/v1/services/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert "Traceback" not in response.content.decode()
