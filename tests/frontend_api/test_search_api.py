import io

import pytest
from content_builders import article, topic, vocabulary
from django.core.management import call_command

from federation.models import Area, ServiceArea
from federation.signals import records_changed
from frontend_api.models import SearchEntry
from frontend_api.search.analysis import voikko_available
from frontend_api.search.services import index_services
from tests.factories.federation import ServiceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/search/"
needs_voikko = pytest.mark.skipif(
    not voikko_available(), reason="Voikko (libvoikko + voikko-fi) is not installed"
)


@pytest.fixture
def content(home_page):
    vocabulary()
    baby = topic(home_page, key="baby", slugs={"fi": "vauva", "sv": "bebis"})
    clinic = article(
        baby,
        texts={
            "fi": {
                "title": "Käynnit lastenneuvolassa",
                "slug": "lastenneuvola",
                "lead": "Lastenneuvola seuraa lapsen kasvua.",
            },
            "sv": {
                "title": "Besök på barnrådgivningen",
                "slug": "radgivning",
                "lead": "Barnrådgivningen följer barnets tillväxt.",
            },
        },
    )
    sleep = article(
        baby,
        texts={
            "fi": {
                "title": "Vauvan uni",
                "slug": "uni",
                "body": [
                    {"type": "paragraph", "value": "<p>Vauva nukkuu selällään omassa sängyssä.</p>"}
                ],
            }
        },
    )
    helsinki = Area.objects.get_or_create(
        code="091", defaults={"kind": Area.Kind.MUNICIPALITY, "name": {"fi": "Helsinki"}}
    )[0]
    Area.objects.get_or_create(
        code="049", defaults={"kind": Area.Kind.MUNICIPALITY, "name": {"fi": "Espoo"}}
    )
    local = ServiceFactory(
        name={"fi": "Helsingin lastenneuvolat", "sv": "Helsingfors barnrådgivningar"},
        summary={"fi": "Neuvolapalvelut alle kouluikäisille."},
    )
    elsewhere = ServiceFactory(name={"fi": "Espoon lastenneuvolat"})
    withdrawn = ServiceFactory(name={"fi": "Suljettu lastenneuvola"}, status="withdrawn")
    ServiceArea.objects.create(service=local, kind="municipality", code=helsinki.code)
    ServiceArea.objects.create(service=elsewhere, kind="municipality", code="049")
    output = io.StringIO()
    call_command("rebuild_search_index", stdout=output)
    assert "indexed" in output.getvalue()
    return {
        "clinic": clinic,
        "sleep": sleep,
        "local": local,
        "elsewhere": elsewhere,
        "withdrawn": withdrawn,
    }


def found(response):
    return [(item["kind"], item["id"]) for item in response.json()["results"]]


@needs_voikko
def test_neuvola_finds_lastenneuvola_articles_and_services_in_finnish(client, content):
    response = client.get(URL, {"q": "neuvola", "lang": "fi"})

    assert response.status_code == 200
    hits = found(response)
    assert ("article", content["clinic"]["fi"].pk) in hits
    assert ("service", content["local"].pk) in hits
    assert ("service", content["elsewhere"].pk) in hits
    assert ("article", content["sleep"]["fi"].pk) not in hits
    body = response.json()
    assert body["meta"]["lang"] == "fi"
    assert body["meta"]["strategy"] in {"any", "parts"}
    assert body["meta"]["did_you_mean"] is None
    scores = [item["score"] for item in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_results_carry_addresses_and_highlighted_safe_snippets(client, content):
    response = client.get(URL, {"q": "lastenneuvola", "lang": "fi"})

    items = {(item["kind"], item["id"]): item for item in response.json()["results"]}
    clinic = items[("article", content["clinic"]["fi"].pk)]
    assert clinic["path"] == "/fi/vauva/lastenneuvola/"
    assert clinic["api_url"].endswith(f"/api/v1/articles/{content['clinic']['fi'].pk}/")
    assert "<mark>Lastenneuvola</mark>" in clinic["snippet"]
    service = items[("service", content["local"].pk)]
    assert service["path"] is None
    assert service["api_url"].endswith(f"/api/v1/services/{content['local'].pk}/")
    assert service["title"] == "Helsingin lastenneuvolat"


def test_snippets_escape_the_text(client, content):
    ServiceFactory(pk=99001, name={"fi": "Lastenneuvola <script>alert(1)</script>"})
    index_services(service_ids=[99001])

    response = client.get(URL, {"q": "lastenneuvola", "lang": "fi", "kind": "service"})

    snippets = [item["snippet"] for item in response.json()["results"] if item["id"] == 99001]
    assert snippets and "<script>" not in snippets[0]
    assert "&lt;script&gt;" in snippets[0]


@needs_voikko
def test_a_misspelt_word_gets_a_suggestion_and_still_finds(client, content):
    response = client.get(URL, {"q": "nuevola", "lang": "fi"})

    assert response.json()["meta"]["did_you_mean"] == "neuvola"
    assert ("article", content["clinic"]["fi"].pk) in found(response)


def test_municipality_limits_services_not_articles(client, content):
    response = client.get(URL, {"q": "lastenneuvola", "lang": "fi", "municipality": "091"})

    hits = found(response)
    assert ("service", content["local"].pk) in hits
    assert ("service", content["elsewhere"].pk) not in hits
    assert ("article", content["clinic"]["fi"].pk) in hits


def test_withdrawn_services_are_never_found_even_when_indexed(client, content):
    SearchEntry.objects.create(
        kind="service", object_id=content["withdrawn"].pk, lang="fi", title="Suljettu lastenneuvola"
    )

    response = client.get(URL, {"q": "suljettu", "lang": "fi"})

    assert ("service", content["withdrawn"].pk) not in found(response)


def test_swedish_search_finds_swedish_versions(client, content):
    response = client.get(URL, {"q": "barnrådgivningen", "lang": "sv"})

    hits = found(response)
    assert ("article", content["clinic"]["sv"].pk) in hits
    assert ("article", content["clinic"]["fi"].pk) not in hits
    assert response.json()["meta"]["lang"] == "sv"


def test_swedish_search_falls_back_to_finnish_only_articles(client, content):
    response = client.get(URL, {"q": "vauva", "lang": "sv"})

    assert found(response) == [("article", content["sleep"]["fi"].pk)]
    assert response.json()["results"][0]["lang"] == "fi"
    assert response.json()["meta"]["fallback"] is True


def test_kind_limits_the_results(client, content):
    response = client.get(URL, {"q": "lastenneuvola", "lang": "fi", "kind": "article"})

    assert {kind for kind, _ in found(response)} == {"article"}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "neuvola", "municipality": "91"}, "municipality"),
        ({"q": "neuvola", "kind": "page"}, "kind"),
        ({"q": "neuvola", "sort": "name"}, "sort"),
    ],
)
def test_bad_search_parameters_are_a_400(client, content, params, name):
    response = client.get(URL, params)

    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_publishing_an_article_indexes_it(client, content):
    page = content["sleep"]["fi"]
    page.title = "Vauvan turvallinen uni"
    page.save_revision().publish()

    entry = SearchEntry.objects.get(kind="article", object_id=page.pk)

    assert entry.title == "Vauvan turvallinen uni"
    page.refresh_from_db()
    page.unpublish()
    assert not SearchEntry.objects.filter(kind="article", object_id=page.pk).exists()


def test_a_sync_reindexes_the_services_it_changed(content):
    service = content["elsewhere"]
    service.name = {"fi": "Espoon perheneuvola"}
    service.save()
    content["local"].status = "withdrawn"
    content["local"].save()

    records_changed.send(
        sender=None,
        source=service.source,
        run=None,
        changes={"service": {"upserted": [service.pk], "withdrawn": [content["local"].pk]}},
    )

    assert SearchEntry.objects.get(kind="service", object_id=service.pk).title == (
        "Espoon perheneuvola"
    )
    assert not SearchEntry.objects.filter(kind="service", object_id=content["local"].pk).exists()


def test_a_big_sync_reindexes_after_commit_in_a_task(content, django_capture_on_commit_callbacks):
    ids = [ServiceFactory(name={"fi": f"Palvelu {n}"}).pk for n in range(201)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        records_changed.send(
            sender=None,
            source=content["local"].source,
            run=None,
            changes={"service": {"upserted": ids}},
        )
        assert not SearchEntry.objects.filter(kind="service", object_id__in=ids).exists()

    assert callbacks
    for callback in callbacks:
        callback()
    assert SearchEntry.objects.filter(kind="service", object_id__in=ids).count() == 201


def test_article_hits_carry_their_title_and_path_from_the_one_query(
    client, content, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = client.get(URL, {"q": "lastenneuvola", "lang": "fi", "kind": "article"})

    [clinic] = [
        item for item in response.json()["results"] if item["id"] == content["clinic"]["fi"].pk
    ]
    assert clinic["path"] == "/fi/vauva/lastenneuvola/"
    assert clinic["title"] == content["clinic"]["fi"].title
