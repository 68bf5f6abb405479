import time

import pytest
from content_builders import article, topic, vocabulary

from cms.services.preview import create_preview_token

pytestmark = pytest.mark.django_db

URL = "/api/v1/preview/"


@pytest.fixture
def draft(home_page):
    vocabulary()
    baby = topic(home_page, key="baby", slugs={"fi": "vauva"})
    page = article(baby, texts={"fi": {"title": "Luonnos", "slug": "luonnos"}}, live=False)["fi"]
    page.title = "Luonnos, toinen versio"
    page.body = [{"type": "heading", "value": {"text": "Uusi otsikko", "level": "h2"}}]
    page.save_revision()
    return page


def test_a_valid_token_serves_the_latest_draft_and_is_never_cached(client, draft):
    response = client.get(URL, {"token": create_preview_token(page=draft)})

    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "article"
    assert data["id"] == draft.pk
    assert data["title"] == "Luonnos, toinen versio"
    assert data["body"][0]["value"] == {"text": "Uusi otsikko", "level": "h2"}
    assert response["Cache-Control"] == "private, no-store"
    assert "public" not in response["Cache-Control"]


def test_a_topic_page_token_serves_the_topic(client, draft):
    response = client.get(URL, {"token": create_preview_token(page=draft.get_parent())})

    assert response.status_code == 200
    assert response.json()["kind"] == "topic"
    assert response.json()["key"] == "baby"


def test_the_response_cache_never_stores_a_preview(client, draft, settings):
    settings.PESA_API_RESPONSE_CACHE = True
    token = create_preview_token(page=draft)
    client.get(URL, {"token": token})
    draft.title = "Kolmas versio"
    draft.save_revision()

    response = client.get(URL, {"token": token})

    assert response.json()["title"] == "Kolmas versio"
    assert not response.has_header("X-Cache")


def test_an_expired_token_is_a_401(client, draft, settings):
    token = create_preview_token(page=draft)
    settings.PESA_PREVIEW_MAX_AGE = 0
    time.sleep(1.1)

    response = client.get(URL, {"token": token})

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert "expired" in response.json()["detail"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("token", ["forged", "eyJwYWdlIjoxfQ:1abc:xyz"])
def test_a_bad_token_is_a_401(client, draft, token):
    response = client.get(URL, {"token": token})

    assert response.status_code == 401
    assert response.json()["detail"] == "The preview token is not valid."


def test_a_token_of_a_deleted_page_is_a_401(client, draft):
    token = create_preview_token(page=draft)
    draft.delete()

    assert client.get(URL, {"token": token}).status_code == 401


def test_a_missing_token_is_a_400(client, draft):
    response = client.get(URL)

    assert response.status_code == 400
    assert "token" in response.json()["errors"]
