"""The service list reads a page and its count in one query (PostgreSQL).

The busiest public read: a filtered page costs one SQL query whatever the page size, an
empty one too. Municipalities (their county codes) are read once per process, so the
`municipality` check and the area codes cost no query of their own.
"""

import pytest
from federation_api_data import make_channel, make_service

from federation.models import Service
from federation.selectors import (
    area_keys,
    forget_list_key_statistics,
    list_key_statistics,
    offered_in,
    offered_in_codes,
    public_services,
    target_group_keys,
    with_list_keys,
)
from frontend_api.filters.services import code_or_narrower, with_code
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/"
FILTERS = {"municipality": "091", "language": "fi", "lang": "fi", "audience": "KR1"}


@pytest.fixture(autouse=True)
def municipalities_read():
    """As in a serving process after its first list: the municipality map and the list-key
    statistics (none yet: the table was never analysed) are in memory."""
    offered_in_codes(municipality_code="091")
    forget_list_key_statistics()
    list_key_statistics()
    yield
    forget_list_key_statistics()


@pytest.fixture
def services():
    source = SourceFactory(slug="helsinki", kind="municipality")
    organization = OrganizationFactory(source=source, name={"fi": "Helsinki"})
    return [
        make_service(
            source=source,
            organization=organization,
            name={"fi": f"Palvelu {n:02d}"},
            municipalities=("091",),
            counties=("90",),
            target_groups=("KR1.2",),
            channels=(make_channel(source=source), make_channel(source=source)),
        )
        for n in range(25)
    ]


def test_filtered_list_with_its_count_is_one_query(client, services, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(URL, {**FILTERS, "page_size": "20"})

    body = response.json()
    assert body["count"] == 25
    assert [item["name"] for item in body["results"]] == [f"Palvelu {n:02d}" for n in range(20)]
    assert len(body["results"][0]["channels"]) == 2


def test_second_page_is_one_query_and_links_back(client, services, django_assert_num_queries):
    with django_assert_num_queries(1):
        body = client.get(URL, {**FILTERS, "page": "2", "page_size": "20"}).json()

    assert [item["name"] for item in body["results"]] == [f"Palvelu {n:02d}" for n in range(20, 25)]
    assert body["next"] is None
    assert "page_size=20" in body["previous"]


def test_empty_result_of_a_real_municipality_is_a_200(client, services, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(URL, {"municipality": "049"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_unknown_municipality_is_a_400_on_any_page(client, services):
    for page in ("1", "2"):
        response = client.get(URL, {"municipality": "999", "page": page})

        assert response.status_code == 400
        assert "municipality" in response.json()["errors"]


def test_last_page_and_pages_past_the_end(client, services):
    last = client.get(URL, {**FILTERS, "page": "last", "page_size": "10"}).json()

    assert last["meta"]["page"] == 3
    assert [item["name"] for item in last["results"]] == [f"Palvelu {n:02d}" for n in range(20, 25)]
    assert client.get(URL, {**FILTERS, "page": "4", "page_size": "10"}).status_code == 404


def test_count_stops_at_the_cap(client, services, settings):
    settings.PESA_API_COUNT_CAP = 10

    body = client.get(URL, {**FILTERS, "page_size": "5"}).json()

    assert body["count"] == 10
    assert body["meta"]["count_capped"] is True
    assert client.get(URL, {**FILTERS, "page": "3", "page_size": "5"}).status_code == 404


def test_list_keys_index_matches_the_area_and_code_rows():
    """The GIN keys (migration 0006) and the ServiceArea/ServiceCode rows say the same thing."""
    source = SourceFactory(slug="mixed", kind="municipality")
    shapes = [
        {"municipalities": ("091",), "target_groups": ("KR1.2.3",)},
        {"municipalities": ("049",), "counties": ("90",), "target_groups": ("KR1",)},
        {"municipalities": ("179",), "counties": ("15",), "target_groups": ("KR1.2",)},
        {"nationwide": True, "target_groups": ("KR2", "KR10")},
        {"municipalities": ("049",), "target_groups": ()},
    ]
    for n, shape in enumerate(shapes):
        make_service(source=source, name={"fi": f"S{n}"}, **shape)
    public = public_services()

    for municipality in ("091", "049", "179", "837"):
        codes = offered_in_codes(municipality_code=municipality)
        by_keys = with_list_keys(public, any_of=area_keys(codes))
        by_rows = offered_in(public, area_codes=codes)
        assert set(by_keys.values_list("pk", flat=True)) == set(
            by_rows.values_list("pk", flat=True)
        ), municipality
    for audience in (["KR1"], ["KR1.2"], ["KR1.2.3"], ["KR2"], ["KR1.2", "KR2"]):
        by_keys = with_list_keys(public, any_of=target_group_keys(audience))
        by_rows = with_code(public, scheme="target_group", match=code_or_narrower(audience))
        assert set(by_keys.values_list("pk", flat=True)) == set(
            by_rows.values_list("pk", flat=True)
        ), audience
    assert Service.objects.count() == len(shapes)


def test_place_language_audience_lists_take_the_compiled_read_with_the_same_answers(
    client, services
):
    """Only `municipality`/`language`/`audience` (+ lang, paging): the compiled read. Any
    other filter: the filterset. Both must answer alike (here `organization` keeps all)."""
    organization = services[0].organization_id
    for params in (
        FILTERS,
        {**FILTERS, "page": "2"},
        {**FILTERS, "audience": "KR1.2,KR2", "lang": "sv"},
        {"municipality": "091", "page_size": "7", "page": "last"},
        {"language": "fi", "municipality": " "},
        {"municipality": "999"},
        {"language": "f1"},
    ):
        compiled = client.get(URL, params)
        general = client.get(URL, {**params, "organization": str(organization)})

        assert compiled.status_code == general.status_code, params
        body, other = compiled.json(), general.json()
        if compiled.status_code == 200:
            assert other["results"] == body["results"], params
            assert (other["count"], other["meta"]) == (body["count"], body["meta"]), params
            assert body["results"], params
        else:
            assert other["errors"] == body["errors"], params
