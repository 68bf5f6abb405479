import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from federation_api_data import HELSINKI, TAPIOLA, TIKKURILA, make_channel, make_service

from federation.models import RecordStatus
from tests.factories.cms import LifeSituationFactory
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/"


@pytest.fixture
def source():
    return SourceFactory(slug="helsinki", name="Helsingin kaupunki", kind="municipality")


@pytest.fixture
def places(source):
    """One service per kind of place: Helsinki, Espoo, Helsinki's county (90), nationwide."""
    return {
        "helsinki": make_service(
            source=source,
            name={"fi": "Neuvola Kallio", "sv": "Rådgivning Berghäll"},
            municipalities=("091",),
            channels=(make_channel(source=source, point=HELSINKI),),
        ),
        "espoo": make_service(
            source=source,
            name={"fi": "Neuvola Tapiola"},
            municipalities=("049",),
            channels=(make_channel(source=source, point=TAPIOLA),),
        ),
        "county": make_service(source=source, name={"fi": "Perheneuvola"}, counties=("90",)),
        "nationwide": make_service(
            source=source, name={"fi": "Valtakunnallinen auttava puhelin"}, nationwide=True
        ),
    }


def names(response):
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_service_item_has_every_documented_field(client, source):
    organization = OrganizationFactory(
        source=source, name={"fi": "Helsingin kaupunki"}, provider_kind="public"
    )
    channel = make_channel(source=source)
    service = make_service(
        source=source,
        organization=organization,
        name={"fi": "Lastenneuvola", "sv": "Barnrådgivning"},
        summary={"fi": "Lapsen terveyden seuranta."},
        origin_url="https://palvelut.suomi.fi/1",
        municipalities=("091",),
        counties=("90",),
        target_groups=("KR1.2",),
        life_events=("KE1",),
        service_classes=("P3.1",),
        languages=["fi", "sv"],
        channels=(channel,),
    )

    [item] = client.get(URL, {"lang": "fi"}).json()["results"]

    assert item["id"] == service.pk
    assert item["name"] == "Lastenneuvola"
    assert item["summary"] == "Lapsen terveyden seuranta."
    assert item["provider"] == {
        "id": organization.pk,
        "name": "Helsingin kaupunki",
        "kind": "public",
    }
    assert item["areas"] == {
        "nationwide": False,
        "municipalities": [{"code": "091", "name": "Helsinki"}],
        "counties": [{"code": "90", "name": "Helsingin kaupunki"}],
    }
    assert item["languages"] == ["fi", "sv"]
    assert item["target_groups"] == ["KR1.2"]
    assert item["life_events"] == ["KE1"]
    assert item["service_classes"] == ["P3.1"]
    [channel_item] = item["channels"]
    assert channel_item["kind"] == "location"
    assert channel_item["phones"][0]["number"] == "+358 9 310 5015"
    assert channel_item["web_urls"] == [
        {"url": "https://www.example.fi/neuvola", "label": None, "language": "fi"}
    ]
    assert channel_item["emails"] == ["neuvola@example.fi"]
    assert channel_item["addresses"][0]["street"] == "Kaivokatu"
    assert channel_item["addresses"][0]["latitude"] == HELSINKI[0]
    assert channel_item["opening_hours"][0]["opens"] == "08:00"
    provenance = item["provenance"]
    assert provenance["source"] == {"slug": "helsinki", "name": "Helsingin kaupunki"}
    assert provenance["source_kind"] == "municipality"
    assert provenance["trust_tier"] == "verified"
    assert provenance["origin_id"] == service.origin_id
    assert provenance["original_url"] == "https://palvelut.suomi.fi/1"
    assert provenance["last_synced"]


def test_detail_adds_the_description(client, source):
    service = make_service(source=source, description={"fi": "<p>Kuvaus</p>"})

    response = client.get(f"{URL}{service.pk}/")

    assert response.status_code == 200
    assert response.json()["description"] == "<p>Kuvaus</p>"


def test_municipality_includes_its_county_and_nationwide_services(client, places):
    response = client.get(URL, {"municipality": "091"})

    assert ids(response) == {places[k].pk for k in ("helsinki", "county", "nationwide")}


def test_county_includes_its_municipalities_and_nationwide_services(client, places):
    response = client.get(URL, {"county": "03"})

    assert ids(response) == {places["espoo"].pk, places["nationwide"].pk}


def test_postal_code_means_its_municipality(client, places):
    assert ids(client.get(URL, {"postal_code": "00100"})) == ids(
        client.get(URL, {"municipality": "091"})
    )


def test_near_keeps_services_within_the_radius_nearest_first(client, places, source):
    far = make_service(source=source, channels=(make_channel(source=source, point=TIKKURILA),))

    near_only = client.get(URL, {"near": "60.1699,24.9384", "radius_km": "5"}).json()["results"]
    wider = client.get(URL, {"near": "60.1699,24.9384", "radius_km": "20"}).json()["results"]

    assert [item["id"] for item in near_only] == [places["helsinki"].pk]
    assert near_only[0]["distance_km"] == pytest.approx(0.31, abs=0.05)
    assert [item["id"] for item in wider] == [places["helsinki"].pk, places["espoo"].pk, far.pk]
    distances = [item["distance_km"] for item in wider]
    assert distances[1] == pytest.approx(7.4, abs=0.3)  # → Tapiola
    assert distances[2] == pytest.approx(14.8, abs=0.3)  # → Tikkurila


def test_withdrawn_channels_do_not_place_a_service(client, source):
    channel = make_channel(source=source, point=HELSINKI, status=RecordStatus.WITHDRAWN)
    make_service(source=source, channels=(channel,))

    assert ids(client.get(URL, {"near": "60.1719,24.9414"})) == set()


def test_without_near_the_list_is_ordered_by_name_in_the_served_language(client, source):
    make_service(source=source, name={"fi": "Äitiysneuvola", "sv": "A Mödrarådgivning"})
    make_service(source=source, name={"fi": "Bussi", "sv": "B Buss"})
    make_service(source=source, name={"fi": "Apteekki"})

    assert names(client.get(URL, {"lang": "fi"})) == ["Apteekki", "Bussi", "Äitiysneuvola"]
    assert names(client.get(URL, {"lang": "sv"})) == ["A Mödrarådgivning", "Apteekki", "B Buss"]


def test_language_filters_on_the_languages_a_service_is_offered_in(client, source):
    swedish = make_service(source=source, languages=["fi", "sv"])
    make_service(source=source, languages=["fi"])

    assert ids(client.get(URL, {"language": "sv"})) == {swedish.pk}


def test_audience_matches_the_code_and_its_narrower_codes(client, source):
    families = make_service(source=source, target_groups=("KR1.2",))
    citizens = make_service(source=source, target_groups=("KR1",))
    make_service(source=source, target_groups=("KR2",))

    assert ids(client.get(URL, {"audience": "KR1"})) == {families.pk, citizens.pk}
    assert ids(client.get(URL, {"audience": "KR1.2"})) == {families.pk}
    assert ids(client.get(URL, {"audience": "KR1.2,KR2"})) - {citizens.pk} == ids(
        client.get(URL, {"audience": "KR1.2,KR2"})
    )


def test_service_class_prefix_respects_code_boundaries(client, source):
    health = make_service(source=source, service_classes=("P3.1",))
    make_service(source=source, service_classes=("P31",))

    assert ids(client.get(URL, {"service_class": "P3"})) == {health.pk}


def test_life_situation_takes_ptv_codes_and_our_own_codes(client, source, home_page):
    LifeSituationFactory(code="pregnancy", life_event_code="KE1")
    LifeSituationFactory(code="hobbies", life_event_code="")
    birth = make_service(source=source, life_events=("KE1",))
    make_service(source=source, life_events=("KE4",))

    assert ids(client.get(URL, {"life_situation": "KE1"})) == {birth.pk}
    assert ids(client.get(URL, {"life_situation": "pregnancy"})) == {birth.pk}
    assert ids(client.get(URL, {"life_situation": "hobbies"})) == set()
    # Unknown but well-formed: matches nothing, as on /api/v1/articles/ (docs/decisions/0001).
    assert ids(client.get(URL, {"life_situation": "no-such-situation"})) == set()


def test_organization_source_and_provider_kind_filters(client, source):
    ngo_source = SourceFactory(slug="mll", kind="ngo")
    ngo = make_service(source=ngo_source, organization=OrganizationFactory(source=ngo_source))
    parish_org = OrganizationFactory(source=source, provider_kind="parish")
    parish = make_service(source=source, organization=parish_org)
    public = make_service(source=source)

    assert ids(client.get(URL, {"organization": str(parish_org.pk)})) == {parish.pk}
    assert ids(client.get(URL, {"source": "mll"})) == {ngo.pk}
    assert ids(client.get(URL, {"provider_kind": "ngo"})) == {ngo.pk}
    assert ids(client.get(URL, {"provider_kind": "parish"})) == {parish.pk}
    assert ids(client.get(URL, {"provider_kind": "public"})) == {public.pk}


def test_search_matches_every_word_in_name_or_summary_in_any_language(client, source):
    clinic = make_service(
        source=source, name={"fi": "Lastenneuvola"}, summary={"sv": "Rådgivning för barn"}
    )
    make_service(source=source, name={"fi": "Kirjasto"})

    assert ids(client.get(URL, {"search": "NEUVOLA"})) == {clinic.pk}
    assert ids(client.get(URL, {"search": "neuvola barn"})) == {clinic.pk}
    assert ids(client.get(URL, {"search": "neuvola kirjasto"})) == set()


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"municipality": "91"}, "municipality"),
        ({"municipality": "999"}, "municipality"),
        ({"county": "99"}, "county"),
        ({"postal_code": "0010"}, "postal_code"),
        ({"postal_code": "00000"}, "postal_code"),
        ({"near": "95,24"}, "near"),
        ({"near": "60,181"}, "near"),
        ({"near": "helsinki"}, "near"),
        ({"near": "60.17,24.94", "radius_km": "500"}, "radius_km"),
        ({"near": "60.17,24.94", "radius_km": "0"}, "radius_km"),
        ({"radius_km": "abc"}, "radius_km"),
        ({"audience": "families"}, "audience"),
        ({"service_class": ","}, "service_class"),
        ({"organization": "abc"}, "organization"),
        ({"source": "no-such-feed"}, "source"),
        ({"provider_kind": "government"}, "provider_kind"),
        ({"language": "swedish"}, "language"),
        ({"colour": "blue"}, "colour"),
        ({"page_size": "101"}, "page_size"),
    ],
)
def test_bad_values_are_a_400_problem_naming_the_parameter(client, params, parameter):
    response = client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert parameter in response.json()["errors"]


def test_a_disabled_source_is_unknown(client):
    SourceFactory(slug="old-feed", enabled=False)

    assert client.get(URL, {"source": "old-feed"}).status_code == 400


def test_non_numeric_detail_id_is_a_404(client):
    assert client.get(f"{URL}abc/").status_code == 404


def test_query_count_does_not_grow_with_page_size(client, source):
    organization = OrganizationFactory(source=source)
    for n in range(30):
        make_service(
            source=source,
            organization=organization,
            municipalities=("091",),
            counties=("90",),
            target_groups=("KR1.2",),
            channels=(make_channel(source=source), make_channel(source=source)),
            name={"fi": f"Palvelu {n:02d}"},
        )

    def queries(**params):
        with CaptureQueriesContext(connection) as context:
            response = client.get(URL, params)
        assert len(response.json()["results"]) == int(params["page_size"])
        return len(context)

    assert queries(page_size="5") == queries(page_size="30")
    assert queries(page_size="5", municipality="091", near="60.17,24.94") == queries(
        page_size="30", municipality="091", near="60.17,24.94"
    )


def test_list_answers_304_to_a_matching_etag(client, places):
    etag = client.get(URL, {"municipality": "091"})["ETag"]

    response = client.get(URL, {"municipality": "091"}, headers={"If-None-Match": etag})

    assert response.status_code == 304


def test_swedish_request_on_a_finnish_only_service_says_fallback(client, source):
    make_service(source=source, name={"fi": "Vain suomeksi"}, summary={})

    response = client.get(URL, {"lang": "sv"})

    assert response.json()["meta"] == {"lang": "sv", "fallback": True, "page": 1, "page_size": 20}
    assert response.json()["results"][0]["name"] == "Vain suomeksi"
    assert response["Pesa-Language-Fallback"] == "true"


def test_swedish_request_on_a_swedish_service_says_no_fallback(client, source):
    organization = OrganizationFactory(source=source, name={"sv": "Staden"})
    make_service(
        source=source, organization=organization, name={"sv": "Tjänst"}, summary={"sv": "Kort"}
    )

    response = client.get(URL, {"lang": "sv"})

    assert response.json()["meta"]["fallback"] is False
    assert response["Content-Language"] == "sv"
