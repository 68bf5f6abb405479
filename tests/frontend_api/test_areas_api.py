import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

URL = "/api/v1/areas/"


def test_municipality_has_names_in_the_served_language_and_its_county(client):
    response = client.get(f"{URL}091/", {"lang": "sv"})

    assert response.status_code == 200
    assert response.json() == {
        "code": "091",
        "kind": "municipality",
        "name": "Helsingfors",
        "names": {"fi": "Helsinki", "sv": "Helsingfors", "en": "Helsinki"},
        "parent": "90",
    }


def test_kind_lists_the_counties(client):
    response = client.get(URL, {"kind": "wellbeing_services_county", "page_size": "100"})

    codes = [item["code"] for item in response.json()["results"]]
    assert codes == [f"{n:02d}" for n in range(1, 22)]
    assert response.json()["count"] == 21


def test_parent_lists_a_countys_municipalities(client):
    response = client.get(URL, {"parent": "03", "page_size": "100"})

    codes = {item["code"] for item in response.json()["results"]}
    assert {"049", "078"} <= codes
    assert "091" not in codes
    assert {item["parent"] for item in response.json()["results"]} == {"03"}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"kind": "city"}, "kind"), ({"parent": "091"}, "parent"), ({"name": "x"}, "name")],
)
def test_bad_values_are_a_400(client, params, parameter):
    response = client.get(URL, params)

    assert response.status_code == 400
    assert parameter in response.json()["errors"]


def test_unknown_code_is_a_404(client):
    assert client.get(f"{URL}999/").status_code == 404


def test_query_count_does_not_grow_with_page_size(client):
    def queries(page_size):
        with CaptureQueriesContext(connection) as context:
            client.get(URL, {"page_size": page_size})
        return len(context)

    assert queries(5) == queries(100)
