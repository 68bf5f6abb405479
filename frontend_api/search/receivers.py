"""Keeps the search index fresh: publish/unpublish/delete of articles, and feed syncs.

Connected from FrontendApiConfig.ready(). A sync's services are re-indexed inside its
transaction when few changed; a big sync enqueues the work for after the commit instead, so
vectors are never computed per row during a bulk import.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished

from cms.models import ArticlePage
from federation.signals import records_changed
from frontend_api.models import SearchEntry
from frontend_api.search import services
from frontend_api.search.tasks import index_services_task

INLINE_LIMIT = 200
TASK_BATCH = 1000


@receiver(page_published, dispatch_uid="frontend_api.search.page_published")
def index_published_article(sender: Any, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, ArticlePage):
        services.index_articles(page_ids=[instance.pk])


@receiver(page_unpublished, dispatch_uid="frontend_api.search.page_unpublished")
def unindex_unpublished_article(sender: Any, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, ArticlePage):
        services.remove_from_index(kind=SearchEntry.Kind.ARTICLE, object_ids=[instance.pk])


@receiver(post_delete, sender=ArticlePage, dispatch_uid="frontend_api.search.article_deleted")
def unindex_deleted_article(sender: Any, instance: ArticlePage, **kwargs: Any) -> None:
    services.remove_from_index(kind=SearchEntry.Kind.ARTICLE, object_ids=[instance.pk])


@receiver(records_changed, dispatch_uid="frontend_api.search.records_changed")
def index_changed_services(sender: Any, changes: dict, **kwargs: Any) -> None:
    changed = changes.get("service") or {}
    ids = sorted({*changed.get("upserted", []), *changed.get("withdrawn", [])})
    if len(ids) <= INLINE_LIMIT:
        services.index_services(service_ids=ids)
        return
    for start in range(0, len(ids), TASK_BATCH):
        index_services_task.delay_on_commit(ids[start : start + TASK_BATCH])
