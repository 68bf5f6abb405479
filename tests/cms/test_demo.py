import json

import pytest
from django.db import transaction
from django.test import override_settings
from wagtail.images import get_image_model
from wagtail.models import Page

from cms.models import ArticlePage, TopicPage
from cms.selectors import live_articles
from cms.services.demo import load_demo_content
from cms.services.vocabularies import DEMO_CONTENT_DIR

pytestmark = pytest.mark.django_db

ARTICLE_FILES = sorted((DEMO_CONTENT_DIR / "articles").glob("*.json"))


def demo_articles() -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in ARTICLE_FILES]


def fi_page(data: dict) -> ArticlePage:
    return ArticlePage.objects.get(
        locale__language_code="fi", slug=data["translations"]["fi"]["slug"]
    )


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    """Loaded once for the module (it takes seconds) and rolled back afterwards."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        yield load_demo_content()
        transaction.set_rollback(True)


def test_demo_content_creates_every_topic_and_article_in_each_of_its_languages(loaded):
    articles = demo_articles()
    languages = sum(len(data["translations"]) for data in articles)

    assert ARTICLE_FILES, "cms/demo_content/articles is empty"
    assert loaded.articles_created == ArticlePage.objects.count() == languages
    assert TopicPage.objects.filter(locale__language_code="fi").count() == 7
    assert TopicPage.objects.count() == 21
    assert get_image_model().objects.count() == sum(1 for data in articles if data["image"])


def test_demo_pages_have_the_status_their_files_give(loaded):
    for data in demo_articles():
        page = fi_page(data)
        copies = ArticlePage.objects.filter(translation_key=page.translation_key)
        status = data["status"]
        public = set(live_articles().filter(translation_key=page.translation_key))
        if status == "live":
            assert public == set(copies), data["key"]
        else:
            assert public == set(), data["key"]
        if status == "draft":
            assert not any(copy.live for copy in copies)
        if status == "scheduled":
            assert all(not copy.live and copy.go_live_at for copy in copies)
            assert all(copy.get_latest_revision().approved_go_live_at for copy in copies)
        if status == "expired":
            assert all(copy.expired and not copy.live for copy in copies)
        if status == "private":
            assert all(copy.live and copy.get_view_restrictions() for copy in copies)


def test_demo_articles_carry_their_classification_review_and_blocks(loaded):
    data = next(d for d in demo_articles() if d["status"] == "live" and d["image"])
    page = fi_page(data)

    assert sorted(page.audiences.values_list("code", flat=True)) == sorted(data["audiences"])
    assert sorted(page.life_situations.values_list("code", flat=True)) == sorted(
        data["life_situations"]
    )
    assert list(page.topics.values_list("code", flat=True)) == [data["topic"]]
    assert page.reviewer_name == data["reviewer"]["name"]
    assert page.next_review_due is not None
    assert page.body[0].block_type == "image"
    assert page.body[0].value["alt_text"] == data["image"]["alt"]["fi"]
    assert len(page.references) == len(data["translations"]["fi"]["references"])
    swedish = page.get_translation(page.get_translations().get(locale__language_code="sv").locale)
    assert swedish.body[0].value["alt_text"] == data["image"]["alt"]["sv"]
    assert set(swedish.audiences.values_list("locale__language_code", flat=True)) == {"sv"}


def test_internal_links_point_to_the_article_in_the_same_language(loaded):
    links = [
        block.value["page"]
        for page in ArticlePage.objects.filter(locale__language_code="sv")
        for block in page.body
        if block.block_type == "internal_link"
    ]

    assert links
    assert {page.specific.locale.language_code for page in links} == {"sv"}


def test_loading_the_demo_content_twice_creates_nothing_new(loaded):
    pages = Page.objects.count()

    again = load_demo_content()

    assert (again.articles_created, again.topics_created, again.images_created) == (0, 0, 0)
    assert Page.objects.count() == pages
