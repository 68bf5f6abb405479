"""The list keys column and the keyed list read (PostgreSQL).

A list filtered only by place, language and audience is one statement: the matches (up to
the count cap) give the count and, when they are all the matches, the page; past the cap
the page walks the name order. Either way it must answer as the general filterset path.
"""

import math

import pytest
from django.db import connection
from federation_api_data import make_service

from federation.selectors import area_keys, public_services, with_list_keys
from frontend_api.views.services import keyed_list_page
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the list keys are PostgreSQL's"),
]

URL = "/api/v1/services/"
FILTERS = {"municipality": "091", "language": "fi", "lang": "sv", "audience": "KR1"}
# Swedish names for every third service, and two services named alike (ties go by id).
NAMES = [
    {"fi": f"Palvelu {n:02d}", **({"sv": f"Tjänst {n:02d}"} if n % 3 == 0 else {})}
    for n in range(23)
] + [{"fi": "Palvelu 05"}, {"fi": "", "sv": "Tjänst 05"}]


@pytest.fixture
def services():
    source = SourceFactory(slug="helsinki", kind="municipality")
    organization = OrganizationFactory(source=source, name={"fi": "Helsinki"})
    made = [
        make_service(
            source=source,
            organization=organization,
            name=name,
            municipalities=("091",),
            counties=("90",),
            target_groups=("KR1.2",),
        )
        for name in NAMES
    ]
    make_service(source=source, name={"fi": "Espoossa"}, municipalities=("049",))
    return made


def pages(client, params, *, page_size):
    """Every page of the list: (names, count, meta) of each, via the keyed read and via the
    general filterset path (an `organization` filter that keeps them all)."""
    organization = OrganizationFactory._meta.model.objects.get(name={"fi": "Helsinki"}).pk
    answers = {"keyed": [], "general": []}
    for page in (1, 2, 3, 4, 5):
        for path, extra in (("keyed", {}), ("general", {"organization": str(organization)})):
            response = client.get(
                URL, {**params, **extra, "page": str(page), "page_size": str(page_size)}
            )
            if response.status_code == 404:
                continue
            body = response.json()
            answers[path].append(
                ([item["name"] for item in body["results"]], body["count"], body["meta"])
            )
    return answers


@pytest.mark.parametrize("cap", [10_000, 10, 24, 25])
def test_every_page_answers_as_the_filterset_below_and_past_the_count_cap(
    client, services, settings, cap
):
    settings.PESA_API_COUNT_CAP = cap

    answers = pages(client, FILTERS, page_size=7)

    assert answers["keyed"] == answers["general"]
    names = [name for page_names, _count, _meta in answers["keyed"] for name in page_names]
    # The page count comes from the capped count: 7 a page up to page ceil(count / 7).
    assert len(names) == min(25, 7 * math.ceil(min(25, cap) / 7))
    assert names[:4] == ["Palvelu 01", "Palvelu 02", "Palvelu 04", "Palvelu 05"]
    assert names.count("Palvelu 05") == 2
    count, meta = answers["keyed"][0][1], answers["keyed"][0][2]
    assert count == min(25, cap)
    assert meta.get("count_capped", False) is (cap < 25)


def test_keyed_page_sorts_the_matches_by_name_then_id(services):
    keys = {"area_keys": area_keys(["091", "90", "*"])}

    rows, total = keyed_list_page(chain=("fi",), offset=3, limit=5, count_limit=10_001, keys=keys)

    assert total == 25
    # An empty Finnish name sorts first; the two "Palvelu 05" go by id.
    by_name = sorted(services, key=lambda service: (service.name["fi"], service.pk))
    assert [row["id"] for row in rows] == [service.pk for service in by_name[3:8]]


def test_past_the_cap_the_count_stops_and_the_page_walks_the_name_order(services):
    keys = {"area_keys": area_keys(["091", "90", "*"])}

    rows, total = keyed_list_page(chain=("fi",), offset=20, limit=5, count_limit=4, keys=keys)

    assert total == 4
    by_name = sorted(services, key=lambda service: (service.name["fi"], service.pk))
    assert [row["id"] for row in rows] == [service.pk for service in by_name[20:25]]


def test_list_keys_follow_a_service_that_moves(client, services):
    moved = services[0]
    moved.municipality_codes = ["049"]
    moved.county_codes = []
    moved.save(update_fields=["municipality_codes", "county_codes"])

    in_espoo = with_list_keys(public_services(), any_of=area_keys(["049"]))

    assert set(in_espoo.values_list("name__fi", flat=True)) == {"Palvelu 00", "Espoossa"}
    body = client.get(URL, {"municipality": "049", "page_size": "50"}).json()
    assert moved.pk in {item["id"] for item in body["results"]}
