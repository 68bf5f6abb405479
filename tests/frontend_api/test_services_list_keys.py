"""The list keys column and the keyed list read (PostgreSQL).

A list filtered only by place, language and audience is one statement: the matches (up to
the count cap) give the count and, when they are all the matches, the page; past the cap
the page walks the name order. Either way it must answer as the general filterset path.
"""

import math
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from federation_api_data import make_service

from federation.selectors import (
    ListKeyStatistics,
    area_keys,
    forget_list_key_statistics,
    list_key_statistics,
    public_services,
    with_list_keys,
)
from frontend_api.views.services import keyed_list_page
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = pytest.mark.django_db

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


# ---------------------------------------------------------------------------
# Lists too long to count: PostgreSQL's statistics give the count, the page is walked
# ---------------------------------------------------------------------------


def page_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["page"][0]


@pytest.fixture
def analysed(services):
    """The services with fresh statistics, read anew by this test and forgotten after it
    (a process keeps them for minutes: no other test may see these)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE federation_service")
    forget_list_key_statistics()
    yield services
    forget_list_key_statistics()


def test_statistics_give_each_key_its_share_of_the_services(analysed):
    statistics = list_key_statistics()

    # 26 services: 25 in Helsinki (and its county) with target group KR1.2, one in Espoo.
    assert statistics.services == 26
    assert statistics.shares["a:091"] == pytest.approx(25 / 26)
    assert statistics.shares["a:049"] == pytest.approx(1 / 26)
    assert statistics.estimate(area_keys=area_keys(["049"])) == 1
    assert statistics.estimate(area_keys=area_keys(["091"]), audience_keys=["t:KR1"]) == 24


def test_an_estimate_takes_the_keys_as_independent():
    statistics = ListKeyStatistics(
        services=1000, shares={"a:091": 0.2, "a:*": 0.1, "l:fi": 0.9, "l:sv": 0.5}, rare=0.001
    )

    # Any of the areas: 1 - (1 - 0.2)(1 - 0.1); every language: 0.9 × 0.5.
    assert statistics.estimate(area_keys=["a:091", "a:*"]) == 280
    assert statistics.estimate(language_keys=["l:fi", "l:sv"]) == 450
    assert statistics.estimate(area_keys=["a:091"], language_keys=["l:fi"]) == 180
    # A key the statistics do not list is rare, not absent.
    assert statistics.estimate(audience_keys=["t:KR9"]) == 1
    assert statistics.estimate() == 1000


def test_past_the_exact_count_limit_the_count_is_the_estimate_and_pages_follow_the_rows(
    client, analysed, settings
):
    settings.PESA_API_EXACT_COUNT_LIMIT = 5
    params = {"municipality": "091", "language": "fi", "lang": "sv", "page_size": "10"}

    first = client.get(URL, params).json()
    second = client.get(URL, {**params, "page": "2"}).json()
    last = client.get(URL, {**params, "page": "3"}).json()
    past = client.get(URL, {**params, "page": "4"})

    assert first["meta"]["count_estimated"] is True
    assert first["count"] == list_key_statistics().estimate(
        area_keys=area_keys(["091", "90", "*"]), language_keys=["l:fi"]
    )
    assert page_of(first["next"]) == "2" and first["previous"] is None
    assert second["meta"]["count_estimated"] is True and page_of(second["next"]) == "3"
    # The last page knows the count: it holds the last rows.
    assert last["count"] == 25 and "count_estimated" not in last["meta"]
    assert last["next"] is None
    assert past.status_code == 404
    # The same services in the same order as the counted read.
    settings.PESA_API_EXACT_COUNT_LIMIT = 10_000
    counted = [client.get(URL, {**params, "page": str(page)}).json() for page in (1, 2, 3)]
    assert [item["id"] for body in (first, second, last) for item in body["results"]] == [
        item["id"] for body in counted for item in body["results"]
    ]
    assert all("count_estimated" not in body["meta"] for body in counted)


def test_an_estimate_is_never_less_than_the_rows_the_pages_hold(client, analysed, settings):
    settings.PESA_API_EXACT_COUNT_LIMIT = 0
    params = {"municipality": "091", "language": "fi", "audience": "KR9", "page_size": "10"}

    # No service has audience KR9, but it counts as rare: so it is walked, and finds nothing.
    empty = client.get(URL, params).json()
    # The statistics put the Helsinki list at 24 of 26 services with KR1 (above).
    second = client.get(URL, {**params, "audience": "KR1", "page": "2"}).json()

    assert empty["count"] == 0 and empty["results"] == [] and empty["next"] is None
    assert second["count"] >= 21 and page_of(second["next"]) == "3"


def test_the_last_page_is_counted_even_past_the_limit(client, analysed, settings):
    settings.PESA_API_EXACT_COUNT_LIMIT = 5

    body = client.get(URL, {"municipality": "091", "page": "last", "page_size": "10"}).json()

    assert body["count"] == 25 and body["meta"]["page"] == 3
    assert "count_estimated" not in body["meta"]
