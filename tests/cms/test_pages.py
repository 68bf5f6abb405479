import datetime

import pytest
from django.core.exceptions import ValidationError

from cms.models import ArticlePage, HomePage, TopicPage
from cms.models.pages import default_next_review
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db


def test_topic_pages_live_under_home_and_articles_under_topics():
    assert TopicPage.allowed_parent_page_models() == [HomePage]
    assert ArticlePage.allowed_parent_page_models() == [TopicPage]
    assert HomePage.allowed_subpage_models() == [TopicPage]
    assert TopicPage.allowed_subpage_models() == [ArticlePage]
    assert ArticlePage.allowed_subpage_models() == []


def test_an_article_cannot_be_created_directly_under_home(home_page):
    assert not ArticlePage.can_create_at(home_page)
    assert TopicPage.can_create_at(home_page)


def test_article_body_is_built_from_factory_blocks(home_page):
    topic = TopicPageFactory(parent=home_page)

    article = ArticlePageFactory(
        parent=topic,
        body__0__paragraph="<p>Neuvola tukee koko perhettä.</p>",
        body__1__heading__text="Milloin neuvolaan?",
    )

    article.refresh_from_db()
    assert [block.block_type for block in article.body] == ["paragraph", "heading"]
    assert "Neuvola tukee" in article.body[0].value.source
    assert article.body[1].value["text"] == "Milloin neuvolaan?"


def test_next_review_defaults_to_one_year_after_the_review(home_page):
    topic = TopicPageFactory(parent=home_page)

    article = ArticlePageFactory(parent=topic, reviewed_on=datetime.date(2026, 3, 1))

    assert article.next_review_due == datetime.date(2027, 3, 1)


def test_next_review_after_a_leap_day_falls_on_28_february():
    assert default_next_review(datetime.date(2028, 2, 29)) == datetime.date(2029, 2, 28)


def test_an_explicit_next_review_date_is_kept(home_page):
    topic = TopicPageFactory(parent=home_page)

    article = ArticlePageFactory(
        parent=topic,
        reviewed_on=datetime.date(2026, 3, 1),
        next_review_due=datetime.date(2026, 9, 1),
    )

    assert article.next_review_due == datetime.date(2026, 9, 1)


def test_lead_longer_than_300_characters_is_rejected(home_page):
    topic = TopicPageFactory(parent=home_page)

    with pytest.raises(ValidationError) as error:
        ArticlePageFactory(parent=topic, lead="x" * 301)

    assert "lead" in error.value.message_dict
