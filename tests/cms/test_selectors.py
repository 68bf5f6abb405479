import datetime

import pytest
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.selectors import live_articles, live_topics
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(home_page):
    return TopicPageFactory(parent=home_page, slug="raskaus")


def publish_translation(page, locale):
    translation = page.copy_for_translation(locale, copy_parents=True)
    translation.save_revision().publish()
    return translation


def test_live_articles_lists_published_articles(topic):
    article = ArticlePageFactory(parent=topic)

    assert list(live_articles()) == [article]


def test_draft_article_is_not_listed(topic):
    ArticlePageFactory(parent=topic, live=False)

    assert list(live_articles()) == []


def test_article_past_its_expiry_is_not_listed_even_before_the_scheduler_runs(topic):
    ArticlePageFactory(parent=topic, expire_at=timezone.now() - datetime.timedelta(minutes=1))
    future = ArticlePageFactory(parent=topic, expire_at=timezone.now() + datetime.timedelta(days=1))

    assert list(live_articles()) == [future]


def test_a_view_restriction_on_the_finnish_article_hides_every_locales_copy(
    topic, locale_sv, locale_en
):
    article = ArticlePageFactory(parent=topic)
    swedish = publish_translation(article, locale_sv)
    english = publish_translation(article, locale_en)
    other = ArticlePageFactory(parent=topic)
    assert {page.pk for page in live_articles()} == {article.pk, swedish.pk, english.pk, other.pk}

    PageViewRestriction.objects.create(page=article, restriction_type=PageViewRestriction.LOGIN)

    assert list(live_articles()) == [other]


def test_a_view_restriction_on_a_swedish_topic_hides_the_finnish_articles_under_it(
    topic, locale_sv
):
    article = ArticlePageFactory(parent=topic)
    publish_translation(article, locale_sv)
    swedish_topic = topic.get_translation(locale_sv)

    PageViewRestriction.objects.create(
        page=swedish_topic, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )

    assert list(live_articles()) == []
    assert list(live_topics()) == []


def test_live_articles_can_be_narrowed_to_one_language(topic, locale_sv):
    article = ArticlePageFactory(parent=topic)
    swedish = publish_translation(article, locale_sv)

    assert list(live_articles(language_code="sv")) == [swedish]
    assert list(live_articles(language_code="fi")) == [article]
    assert list(live_articles(language_code="en")) == []
