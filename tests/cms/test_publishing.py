import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from wagtail.models import Revision

from cms.models import ArticlePage
from cms.selectors import live_articles
from cms.tasks import publish_scheduled_pages_task
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(home_page):
    return TopicPageFactory(parent=home_page)


def test_beat_runs_scheduled_publishing_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["publish-scheduled-pages"]

    assert entry == {"task": "cms.tasks.publish_scheduled_pages_task", "schedule": 60.0}


def test_a_scheduled_article_goes_live_when_its_time_has_come(topic, monkeypatch):
    article = ArticlePageFactory(parent=topic, live=False)
    article.go_live_at = timezone.now() + datetime.timedelta(hours=1)
    article.save_revision().publish()
    article.refresh_from_db()
    assert not article.live
    assert list(live_articles()) == []

    publish_scheduled_pages_task()  # not yet: nothing changes
    assert not ArticlePage.objects.get(pk=article.pk).live

    assert Revision.objects.filter(object_id=str(article.pk), approved_go_live_at__isnull=False)

    later = timezone.now() + datetime.timedelta(hours=1, minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    publish_scheduled_pages_task()

    assert ArticlePage.objects.get(pk=article.pk).live
    assert list(live_articles()) == [article]


def test_an_article_past_its_expiry_is_unpublished(topic):
    article = ArticlePageFactory(parent=topic)
    ArticlePage.objects.filter(pk=article.pk).update(
        expire_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    publish_scheduled_pages_task()

    article.refresh_from_db()
    assert (article.live, article.expired) == (False, True)
