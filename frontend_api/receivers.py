"""Signal receivers of the public API: each is one line that records the change (services)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from wagtail.models import PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from cms.models import ArticlePage
from federation.models import Source
from federation.signals import records_changed
from frontend_api import services


@receiver(records_changed, dispatch_uid="frontend_api.sync_changed")
def sync_changed(sender: Any, source: Source, run: Any, changes: dict, **kwargs: Any) -> None:
    services.record_sync_changes(source=source, run=run, changes=changes)


@receiver(pre_save, sender=Source, dispatch_uid="frontend_api.source_before_save")
def source_before_save(sender: Any, instance: Source, **kwargs: Any) -> None:
    instance._enabled_before = (
        Source.objects.filter(pk=instance.pk).values_list("enabled", flat=True).first()
    )


@receiver(post_save, sender=Source, dispatch_uid="frontend_api.source_saved")
def source_saved(sender: Any, instance: Source, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_enabled_before", None) not in (None, instance.enabled):
        services.record_source_visibility(source=instance)


@receiver(page_published, dispatch_uid="frontend_api.page_published")
def page_was_published(sender: Any, instance: Any, **kwargs: Any) -> None:
    services.record_page_published(page=instance)


@receiver(page_unpublished, dispatch_uid="frontend_api.page_unpublished")
def page_was_unpublished(sender: Any, instance: Any, **kwargs: Any) -> None:
    services.record_page_unpublished(page=instance)


@receiver(post_page_move, dispatch_uid="frontend_api.page_moved")
def page_was_moved(sender: Any, instance: Any, **kwargs: Any) -> None:
    services.record_pages_moved(page=instance)


@receiver(post_delete, sender=ArticlePage, dispatch_uid="frontend_api.article_deleted")
def article_was_deleted(sender: Any, instance: ArticlePage, **kwargs: Any) -> None:
    services.record_page_deleted(page=instance)


@receiver(post_save, sender=PageViewRestriction, dispatch_uid="frontend_api.restriction_saved")
def restriction_saved(sender: Any, instance: PageViewRestriction, **kwargs: Any) -> None:
    services.record_view_restriction_changed(page_id=instance.page_id, removed=False)


@receiver(post_delete, sender=PageViewRestriction, dispatch_uid="frontend_api.restriction_deleted")
def restriction_deleted(sender: Any, instance: PageViewRestriction, **kwargs: Any) -> None:
    services.record_view_restriction_changed(page_id=instance.page_id, removed=True)
