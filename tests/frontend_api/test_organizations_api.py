import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from federation_api_data import make_service

from federation.models import RecordStatus
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations/"


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_organization_item_counts_only_public_services(client):
    source = SourceFactory(slug="vantaa")
    organization = OrganizationFactory(
        source=source,
        name={"fi": "Vantaan kaupunki", "sv": "Vanda stad"},
        provider_kind="public",
        business_id="0124610-9",
        url="https://www.vantaa.fi",
        municipality_code="092",
    )
    make_service(source=source, organization=organization)
    make_service(source=source, organization=organization)
    make_service(source=source, organization=organization, status=RecordStatus.WITHDRAWN)

    [item] = client.get(URL, {"lang": "sv"}).json()["results"]

    assert item["id"] == organization.pk
    assert item["name"] == "Vanda stad"
    assert item["provider_kind"] == "public"
    assert item["business_id"] == "0124610-9"
    assert item["url"] == "https://www.vantaa.fi"
    assert item["municipality_code"] == "092"
    assert item["services_count"] == 2
    assert (
        item["services_url"] == f"http://testserver/api/v1/services/?organization={organization.pk}"
    )
    assert item["provenance"]["source"]["slug"] == "vantaa"


def test_detail_adds_the_description_and_withdrawn_is_a_404(client):
    organization = OrganizationFactory(description={"fi": "<p>Kunta</p>"})
    withdrawn = OrganizationFactory(status=RecordStatus.WITHDRAWN)

    assert client.get(f"{URL}{organization.pk}/").json()["description"] == "<p>Kunta</p>"
    assert client.get(f"{URL}{withdrawn.pk}/").status_code == 404


def test_municipality_means_based_there_or_serving_there(client):
    source = SourceFactory()
    based = OrganizationFactory(source=source, municipality_code="091")
    serving = OrganizationFactory(source=source, municipality_code="049")
    make_service(source=source, organization=serving, nationwide=True)
    OrganizationFactory(source=source, municipality_code="049")

    assert ids(client.get(URL, {"municipality": "091"})) == {based.pk, serving.pk}


def test_provider_kind_source_and_search_filters(client):
    ngo_source = SourceFactory(slug="mll", kind="ngo")
    ngo = OrganizationFactory(source=ngo_source, name={"fi": "Mannerheimin Lastensuojeluliitto"})
    parish = OrganizationFactory(provider_kind="parish", name={"fi": "Seurakuntayhtymä"})

    assert ids(client.get(URL, {"provider_kind": "ngo"})) == {ngo.pk}
    assert ids(client.get(URL, {"provider_kind": "parish"})) == {parish.pk}
    assert ids(client.get(URL, {"source": "mll"})) == {ngo.pk}
    assert ids(client.get(URL, {"search": "lastensuojelu"})) == {ngo.pk}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"municipality": "1"}, "municipality"),
        ({"provider_kind": "x"}, "provider_kind"),
        ({"source": "nope"}, "source"),
        ({"near": "60,24"}, "near"),
    ],
)
def test_bad_values_are_a_400(client, params, parameter):
    response = client.get(URL, params)

    assert response.status_code == 400
    assert parameter in response.json()["errors"]


def test_query_count_does_not_grow_with_page_size(client):
    source = SourceFactory()
    for _ in range(20):
        make_service(source=source, organization=OrganizationFactory(source=source))

    def queries(page_size):
        with CaptureQueriesContext(connection) as context:
            assert len(client.get(URL, {"page_size": page_size}).json()["results"]) == page_size
        return len(context)

    assert queries(5) == queries(20)
