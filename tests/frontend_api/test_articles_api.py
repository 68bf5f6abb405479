import datetime as dt

import pytest
from content_builders import article, publish, topic, vocabulary
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

URL = "/api/v1/articles/"


@pytest.fixture
def tree(home_page):
    vocabulary()
    baby = topic(home_page, key="baby", slugs={"fi": "vauva", "sv": "bebis", "en": "baby"})
    school = topic(home_page, key="school", slugs={"fi": "koulu", "sv": "skola"})
    feeding = article(
        baby,
        texts={
            "fi": {"title": "Imetys", "slug": "imetys"},
            "sv": {"title": "Amning", "slug": "amning"},
        },
        audiences=("KR1.2",),
        life_situations=("baby",),
    )
    sleep = article(baby, texts={"fi": {"title": "Vauvan uni", "slug": "uni"}})
    start = article(
        school,
        texts={
            "fi": {"title": "Koulun aloitus", "slug": "aloitus"},
            "sv": {"title": "Skolstart", "slug": "skolstart"},
        },
    )
    return {"baby": baby, "school": school, "feeding": feeding, "sleep": sleep, "start": start}


def ids(response):
    return {item["id"] for item in response.json()["results"]}


def test_list_serves_the_finnish_articles_with_their_fields(client, tree):
    response = client.get(URL, {"lang": "fi"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["meta"]["lang"] == "fi"
    assert body["meta"]["fallback"] is False
    item = next(i for i in body["results"] if i["id"] == tree["feeding"]["fi"].pk)
    sv = tree["feeding"]["sv"]
    assert item["locale"] == "fi"
    assert item["title"] == "Imetys"
    assert item["lead"] == "Imetys lead."
    assert item["path"] == "/fi/vauva/imetys/"
    assert item["api_url"].endswith(f"/api/v1/articles/{item['id']}/")
    assert item["topic"]["key"] == "baby"
    assert item["topic"]["path"] == "/fi/vauva/"
    assert item["audiences"] == [
        {"code": "KR1.2", "name": "Lapsiperheet", "uri": "http://uri.example/KR1.2"}
    ]
    assert item["life_situations"][0]["code"] == "baby"
    assert item["life_situations"][0]["life_event_code"] == "KE1"
    assert item["reviewed_on"] == "2026-01-15"
    assert item["next_review_due"] == "2027-01-15"
    assert item["last_published_at"]
    assert item["translations"] == {
        "sv": {
            "id": sv.pk,
            "path": "/sv/bebis/amning/",
            "api_url": f"http://testserver/api/v1/articles/{sv.pk}/",
        }
    }


def test_swedish_list_gives_each_article_once_falling_back_to_finnish(client, tree):
    response = client.get(URL, {"lang": "sv"})

    body = response.json()
    assert ids(response) == {
        tree["feeding"]["sv"].pk,
        tree["start"]["sv"].pk,
        tree["sleep"]["fi"].pk,
    }
    assert body["meta"] == {**body["meta"], "lang": "sv", "fallback": True}
    assert response["Content-Language"] == "sv, fi"
    assert response["Pesa-Language-Fallback"] == "true"
    amning = next(i for i in body["results"] if i["id"] == tree["feeding"]["sv"].pk)
    assert amning["path"] == "/sv/bebis/amning/"
    assert amning["audiences"][0]["name"] == "Barnfamiljer"
    assert amning["translations"]["fi"]["path"] == "/fi/vauva/imetys/"


def test_a_page_without_fallbacks_says_so(client, tree):
    response = client.get(URL, {"lang": "sv", "topic": "school"})

    assert ids(response) == {tree["start"]["sv"].pk}
    assert response.json()["meta"]["fallback"] is False


def test_an_unpublished_translation_does_not_hide_the_fallback(client, tree):
    tree["feeding"]["sv"].unpublish()

    response = client.get(URL, {"lang": "sv"})

    assert tree["feeding"]["fi"].pk in ids(response)
    assert tree["feeding"]["sv"].pk not in ids(response)
    fi_item = next(i for i in response.json()["results"] if i["id"] == tree["feeding"]["fi"].pk)
    assert fi_item["translations"] == {}


@pytest.mark.parametrize("value", ["baby", "bebis", "vauva"])
def test_topic_filter_takes_a_key_or_a_slug_in_any_language(client, tree, value):
    response = client.get(URL, {"lang": "fi", "topic": value})

    assert ids(response) == {tree["feeding"]["fi"].pk, tree["sleep"]["fi"].pk}


def test_topic_filter_takes_a_topic_page_id(client, tree):
    response = client.get(URL, {"lang": "sv", "topic": tree["school"]["fi"].pk})

    assert ids(response) == {tree["start"]["sv"].pk}


def test_audience_and_life_situation_filters_match_codes(client, tree):
    by_audience = client.get(URL, {"lang": "fi", "audience": "KR1.2"})
    by_situation = client.get(URL, {"lang": "fi", "life_situation": "baby"})
    by_life_event = client.get(URL, {"lang": "fi", "life_situation": "KE1"})
    nothing = client.get(URL, {"lang": "fi", "audience": "KR9"})

    assert ids(by_audience) == {tree["feeding"]["fi"].pk}
    assert ids(by_situation) == {tree["feeding"]["fi"].pk}
    assert ids(by_life_event) == {tree["feeding"]["fi"].pk}
    assert ids(nothing) == set()


def test_updated_since_keeps_articles_published_after_it(client, tree):
    publish(tree["sleep"]["fi"])
    since = tree["sleep"]["fi"].last_published_at

    response = client.get(URL, {"lang": "fi", "updated_since": since.isoformat()})
    future = client.get(URL, {"lang": "fi", "updated_since": "2999-01-01T00:00:00Z"})

    assert ids(response) == {tree["sleep"]["fi"].pk}
    assert ids(future) == set()


def test_updated_since_is_compared_as_an_instant_whatever_its_offset(client, tree):
    publish(tree["sleep"]["fi"])
    since = tree["sleep"]["fi"].last_published_at
    # An offset PostgreSQL itself refuses (over 15:59), and the first instant of year 1.
    far_east = since.astimezone(dt.timezone(dt.timedelta(hours=20, minutes=17)))

    same_instant = client.get(URL, {"lang": "fi", "updated_since": far_east.isoformat()})
    too_early = client.get(URL, {"lang": "fi", "updated_since": "0001-01-01T00:00:00+05:00"})

    assert ids(same_instant) == {tree["sleep"]["fi"].pk}
    assert too_early.status_code == 400
    assert too_early["Content-Type"] == "application/problem+json"
    assert "updated_since" in too_early.json()["detail"]


def test_list_is_newest_first(client, tree):
    publish(tree["feeding"]["fi"])

    response = client.get(URL, {"lang": "fi"})

    assert response.json()["results"][0]["id"] == tree["feeding"]["fi"].pk


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"colour": "red"}, "colour"),
        ({"lang": "de"}, "lang"),
        ({"page_size": "101"}, "page_size"),
        ({"audience": "KR1.2;drop"}, "audience"),
        ({"topic": "no/such"}, "topic"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(client, tree, params, name):
    response = client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert name in response.json()["errors"]


def test_search_filter_ranks_matching_articles(client, tree):
    response = client.get(URL, {"lang": "fi", "search": "imetys"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [tree["feeding"]["fi"].pk]


def test_list_query_count_does_not_grow_with_page_size(client, home_page):
    vocabulary()
    baby = topic(home_page, key="baby", slugs={"fi": "vauva", "sv": "bebis"})
    for number in range(50):
        texts = {"fi": {"title": f"Artikkeli {number}", "slug": f"a-{number}"}}
        if number % 2:
            texts["sv"] = {"title": f"Artikel {number}", "slug": f"a-{number}"}
        article(baby, texts=texts, audiences=("KR1.2",), life_situations=("baby",), quick=True)

    def queries(page_size):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, {"lang": "sv", "page_size": page_size})
        assert len(response.json()["results"]) == page_size
        return len(captured)

    small, large = queries(5), queries(50)
    assert small == large
    assert large <= 9
