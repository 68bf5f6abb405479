import pytest
from content_builders import article, topic, vocabulary

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(home_page):
    vocabulary()
    baby = topic(home_page, key="baby", slugs={"fi": "vauva", "sv": "bebis"})
    school = topic(home_page, key="school", slugs={"fi": "koulu"})
    article(
        baby,
        texts={"fi": {"title": "A", "slug": "a"}, "sv": {"title": "A sv", "slug": "a"}},
    )
    article(baby, texts={"fi": {"title": "B", "slug": "b"}})
    article(school, texts={"fi": {"title": "C", "slug": "c"}})
    return {"baby": baby, "school": school}


def test_topics_in_swedish_fall_back_and_count_served_articles(client, tree):
    response = client.get("/api/v1/topics/", {"lang": "sv"})

    assert response.status_code == 200
    body = response.json()
    topics = {item["key"]: item for item in body["results"]}
    assert topics["baby"]["id"] == tree["baby"]["sv"].pk
    assert topics["baby"]["locale"] == "sv"
    assert topics["baby"]["path"] == "/sv/bebis/"
    assert topics["baby"]["article_count"] == 2  # A in Swedish, B in Finnish
    assert topics["baby"]["articles_url"] == (
        "http://testserver/api/v1/articles/?topic=baby&lang=sv"
    )
    assert topics["school"]["locale"] == "fi"
    assert topics["school"]["article_count"] == 1
    assert body["meta"]["fallback"] is True


def test_topic_articles_url_lists_the_counted_articles(client, tree):
    topic_item = client.get("/api/v1/topics/", {"lang": "sv"}).json()["results"][0]

    articles = client.get(topic_item["articles_url"])

    assert articles.json()["count"] == topic_item["article_count"]


def test_topics_reject_unknown_parameters(client, tree):
    assert client.get("/api/v1/topics/", {"topic": "baby"}).status_code == 400


def test_target_groups_are_named_in_the_served_language(client, tree):
    response = client.get("/api/v1/vocabularies/target-groups/", {"lang": "sv"})

    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item == {
        "code": "KR1.2",
        "uri": "http://uri.example/KR1.2",
        "name": "Barnfamiljer",
        "description": "",
        "lang": "sv",
        "parent": None,
    }
    assert response.json()["meta"]["fallback"] is False


def test_life_situations_carry_their_life_event_code(client, tree):
    response = client.get("/api/v1/vocabularies/life-situations/", {"lang": "en"})

    (item,) = response.json()["results"]
    assert item["code"] == "baby"
    assert item["name"] == "Baby"
    assert item["life_event_code"] == "KE1"


def test_a_term_missing_in_the_language_falls_back(client, tree):
    from cms.models import TargetGroup

    TargetGroup.objects.filter(locale__language_code="sv").delete()

    response = client.get("/api/v1/vocabularies/target-groups/", {"lang": "sv"})

    assert response.json()["results"][0]["name"] == "Lapsiperheet"
    assert response.json()["results"][0]["lang"] == "fi"
    assert response.json()["meta"]["fallback"] is True


def test_vocabularies_are_paginated_and_strict(client, tree):
    assert client.get("/api/v1/vocabularies/target-groups/", {"page_size": 1}).status_code == 200
    assert client.get("/api/v1/vocabularies/target-groups/", {"code": "x"}).status_code == 400
