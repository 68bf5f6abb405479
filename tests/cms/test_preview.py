import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from cms.exceptions import PreviewTokenExpired, PreviewTokenInvalid
from cms.models import ArticlePage
from cms.selectors import page_for_preview_token
from cms.services.preview import create_preview_token
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(home_page):
    return ArticlePageFactory(parent=TopicPageFactory(parent=home_page), title="Published title")


def test_preview_opens_the_frontend_with_a_token_for_the_page(article, settings):
    settings.PESA_FRONTEND_URL = "https://perhe.example.fi/"

    response = article.make_preview_request()

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://perhe.example.fi/preview"
    query = parse_qs(url.query)
    assert query["content_type"] == ["cms.articlepage"]
    assert query["lang"] == ["fi"]
    assert page_for_preview_token(query["token"][0]).pk == article.pk


def test_token_gives_the_latest_draft_revision_not_the_live_page(article):
    article.title = "Draft title"
    article.save_revision()

    page = page_for_preview_token(create_preview_token(page=article))

    assert isinstance(page, ArticlePage)
    assert page.title == "Draft title"
    assert ArticlePage.objects.get(pk=article.pk).title == "Published title"


def test_token_older_than_the_max_age_is_expired(article, settings, monkeypatch):
    settings.PESA_PREVIEW_MAX_AGE = 3600
    token = create_preview_token(page=article)
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + 3601)

    with pytest.raises(PreviewTokenExpired):
        page_for_preview_token(token)


def test_token_within_the_max_age_is_accepted(article, settings, monkeypatch):
    settings.PESA_PREVIEW_MAX_AGE = 3600
    token = create_preview_token(page=article)
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + 3500)

    assert page_for_preview_token(token).pk == article.pk


@pytest.mark.parametrize("token", ["", "nonsense", "eyJwYWdlIjoxfQ:1vQ:forged"])
def test_forged_or_malformed_token_is_invalid(token):
    with pytest.raises(PreviewTokenInvalid):
        page_for_preview_token(token)


def test_token_signed_for_another_purpose_is_invalid(article):
    token = signing.dumps({"page": article.pk})  # default salt, not the preview salt

    with pytest.raises(PreviewTokenInvalid):
        page_for_preview_token(token)


def test_token_of_a_deleted_page_is_invalid(article):
    token = create_preview_token(page=article)
    article.delete()

    with pytest.raises(PreviewTokenInvalid, match="no longer exists"):
        page_for_preview_token(token)


def test_preview_of_an_unsaved_page_asks_for_a_draft_first(home_page):
    page = ArticlePage(title="New", slug="new", lead="Lead", locale=home_page.locale)

    response = page.make_preview_request()

    assert response.status_code == 200
    assert b"Save a draft" in response.content
