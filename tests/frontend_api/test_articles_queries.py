"""The article reads are one SQL query each: an article (by id or by path) with its terms,
topic, public translations, keywords and link targets, and a page of the list with its
count. Their compiled SQL is reused with fresh parameters, so the time and the id asked for
are never baked in."""

import datetime

import pytest
from content_builders import article, topic, vocabulary
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.models import TargetGroup
from cms.selectors import live_articles, live_articles_inline
from frontend_api.filters.content import best_in_language, in_language
from frontend_api.views.content import ARTICLE_BY_ID, PLAIN_LIST_PAGE

pytestmark = pytest.mark.django_db

URL = "/api/v1/articles/"
# The article's query finds the body's link targets: no lookups afterwards.
LINK_LOOKUP_QUERIES = 0


@pytest.fixture
def tree(home_page):
    vocabulary()
    baby = topic(home_page, key="baby", slugs={"fi": "vauva", "sv": "bebis"})
    sleep = article(baby, texts={"fi": {"title": "Uni", "slug": "uni"}})["fi"]
    hidden = article(baby, texts={"fi": {"title": "Luonnos", "slug": "luonnos"}}, live=False)
    body = [
        {
            "type": "paragraph",
            "value": f'<p><a linktype="page" id="{sleep.pk}">Uni</a> ja '
            f'<a linktype="page" id="{hidden["fi"].pk}">luonnos</a></p>',
        },
        {"type": "internal_link", "value": {"page": sleep.pk, "text": ""}},
        {
            "type": "link_list",
            "value": {"title": "", "links": [{"text": "", "page": sleep.pk, "url": ""}]},
        },
    ]
    feeding = article(
        baby,
        texts={
            "fi": {"title": "Imetys", "slug": "imetys", "body": body},
            "sv": {"title": "Amning", "slug": "amning"},
        },
        audiences=("KR1.2",),
        life_situations=("baby",),
    )
    feeding["fi"].keywords.add("imetys", "maito")
    feeding["fi"].save()
    for number in range(5):
        article(baby, texts={"fi": {"title": f"Artikkeli {number}", "slug": f"a-{number}"}})
    return {"baby": baby, "sleep": sleep, "feeding": feeding}


def queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return response, [query["sql"] for query in captured]


def test_article_detail_is_one_query(client, tree):
    feeding = tree["feeding"]["fi"]

    response, sql = queries(client, f"{URL}{feeding.pk}/")

    assert len(sql) == 1 + LINK_LOOKUP_QUERIES, sql
    data = response.json()
    assert data["audiences"][0]["name"] == "Lapsiperheet"
    assert data["life_situations"][0]["name"] == "Vauva"
    assert data["topic"]["path"] == "/fi/vauva/"
    assert data["keywords"] == ["imetys", "maito"]
    assert data["translations"]["sv"]["path"] == "/sv/bebis/amning/"
    paragraph, internal, links = (block["value"] for block in data["body"])
    assert f'href="/fi/vauva/uni/" data-page-id="{tree["sleep"].pk}"' in paragraph
    assert paragraph.count("href=") == 1  # the draft lost its target
    assert internal["page"]["path"] == "/fi/vauva/uni/"
    assert links["links"][0]["page"]["id"] == tree["sleep"].pk


def test_article_by_path_is_one_query(client, tree):
    response, sql = queries(client, f"{URL}by-path/", {"path": "/sv/bebis/amning/"})

    assert len(sql) == 1, sql
    assert response.json()["id"] == tree["feeding"]["sv"].pk


def test_by_path_compares_the_slugs_exactly_not_as_a_pattern(client, tree):
    # `_` is a LIKE wildcard: "un_" must not find "uni".
    response = client.get(f"{URL}by-path/", {"path": "/fi/vauva/un_/"})

    assert response.status_code == 404


def test_translation_is_named_in_its_own_language_when_it_carries_the_source_terms(client, tree):
    swedish = tree["feeding"]["sv"]
    # wagtail-localize copies the Finnish page's many-to-many rows into the translation.
    swedish.audiences = [TargetGroup.objects.get(code="KR1.2", locale__language_code="fi")]
    swedish.save()

    detail = client.get(f"{URL}{swedish.pk}/").json()
    listed = client.get(URL, {"lang": "sv", "page_size": 100}).json()["results"]

    assert detail["audiences"] == [
        {"code": "KR1.2", "name": "Barnfamiljer", "uri": "http://uri.example/KR1.2"}
    ]
    assert (
        next(item for item in listed if item["id"] == swedish.pk)["audiences"]
        == (detail["audiences"])
    )


def test_list_page_and_its_count_are_one_query(client, tree):
    response, sql = queries(client, URL, {"lang": "sv", "page": 2, "page_size": 3})

    assert len(sql) == 1, sql
    body = response.json()
    assert body["count"] == 7
    assert len(body["results"]) == 3
    assert body["next"].endswith("page=3&page_size=3")
    assert body["previous"].endswith("page_size=3")
    assert body["meta"]["page"] == 2


def test_list_query_count_stays_one_for_any_page_size_and_filter(client, tree):
    for params in (
        {"page_size": 1},
        {"page_size": 100},
        {"audience": "KR1.2"},
        {"life_situation": "KE1"},
        {"updated_since": "2020-01-01T00:00:00Z"},
    ):
        _response, sql = queries(client, URL, {"lang": "fi", **params})
        assert len(sql) == 1, (params, sql)


def test_the_pages_of_a_list_hold_every_article_once_newest_first(client, tree):
    expected = [item["id"] for item in client.get(URL, {"page_size": 100}).json()["results"]]

    pages = [client.get(URL, {"page": number, "page_size": 3}).json() for number in (1, 2, 3)]

    assert [item["id"] for page in pages for item in page["results"]] == expected
    assert pages[2]["next"] is None


def test_list_page_past_the_end_is_a_404_and_last_is_the_last_page(client, tree):
    past = client.get(URL, {"page": 4, "page_size": 3})
    last = client.get(URL, {"page": "last", "page_size": 3})

    assert past.status_code == 404
    assert past["Content-Type"] == "application/problem+json"
    assert last.json()["meta"]["page"] == 3
    assert len(last.json()["results"]) == 1


def test_an_empty_list_is_page_one_with_count_zero(client, home_page):
    response = client.get(URL, {"lang": "fi"})

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []
    assert client.get(URL, {"lang": "fi", "page": 2}).status_code == 404


def test_count_stops_at_the_cap_in_the_page_query(client, tree, settings):
    settings.PESA_API_COUNT_CAP = 4

    first = client.get(URL, {"page_size": 2}).json()
    beyond = client.get(URL, {"page": 3, "page_size": 2})

    assert first["count"] == 4
    assert first["meta"]["count_capped"] is True
    assert beyond.status_code == 404


def test_the_compiled_read_takes_the_time_of_each_request(tree):
    feeding = tree["feeding"]["fi"]
    type(feeding).objects.filter(pk=feeding.pk).update(
        expire_at=timezone.now() + datetime.timedelta(hours=1)
    )
    now = timezone.now()

    before = ARTICLE_BY_ID.rows(shape={}, pk=feeding.pk, now=now)
    after = ARTICLE_BY_ID.rows(shape={}, pk=feeding.pk, now=now + datetime.timedelta(hours=2))
    other = ARTICLE_BY_ID.rows(shape={}, pk=tree["sleep"].pk, now=now)

    assert [row["pk"] for row in before] == [feeding.pk]
    assert after == []
    assert [row["pk"] for row in other] == [tree["sleep"].pk]


def test_the_one_query_visibility_rule_hides_restricted_pages_in_every_locale(tree):
    baby = tree["baby"]
    private = article(baby, texts={"fi": {"title": "Yksityinen", "slug": "yksityinen"}})["fi"]
    visible_before = set(live_articles_inline())
    PageViewRestriction.objects.create(page=private, restriction_type="login")

    assert private in visible_before
    assert set(live_articles_inline()) == visible_before - {private}
    # Restricting the Swedish topic hides every Finnish article under the Finnish topic too.
    PageViewRestriction.objects.create(page=baby["sv"], restriction_type="password", password="x")

    assert set(live_articles_inline()) == set(live_articles()) == set()


def test_every_page_of_the_list_runs_the_statement_compiled_for_its_language_and_size(client, tree):
    compiled = []
    build = PLAIN_LIST_PAGE.build

    def counted(**kwargs):
        compiled.append((kwargs["chain"], kwargs["limit"]))
        return build(**kwargs)

    PLAIN_LIST_PAGE.local.cache = {}
    PLAIN_LIST_PAGE.build = counted
    try:
        pages = [
            client.get(URL, {"lang": "fi", "page": number, "page_size": size}).json()
            for number, size in ((1, 3), (2, 3), (3, 3), (1, 100), (2, 2), (4, 2))
        ]
    finally:
        PLAIN_LIST_PAGE.build = build

    assert compiled == [(("fi",), 3), (("fi",), 100), (("fi",), 2)]
    assert [page["count"] for page in pages] == [7] * 6
    assert [len(page["results"]) for page in pages] == [3, 3, 1, 7, 2, 1]


def test_the_one_pass_language_choice_picks_the_same_pages_as_the_per_row_rule(tree):
    baby = tree["baby"]
    article(baby, texts={"sv": {"title": "Bara svenska", "slug": "bara-svenska"}})
    withdrawn = article(
        baby,
        texts={
            "fi": {"title": "Vain suomeksi", "slug": "vain-suomeksi"},
            "sv": {"title": "Utkast", "slug": "utkast"},
        },
    )
    withdrawn["sv"].unpublish()
    article(
        baby,
        texts={
            "fi": {"title": "Kaikilla", "slug": "kaikilla"},
            "sv": {"title": "På alla", "slug": "pa-alla"},
        },
    )

    for chain in (("fi",), ("sv", "fi"), ("en", "fi"), ("en", "sv", "fi"), ("fi", "sv")):
        public = live_articles_inline()
        expected = set(in_language(public, chain).values_list("pk", flat=True))
        assert set(best_in_language(public, chain).values_list("pk", flat=True)) == expected
    assert len(set(in_language(live_articles_inline(), ("sv", "fi")))) == 10
