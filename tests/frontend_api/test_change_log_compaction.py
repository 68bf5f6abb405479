"""Compaction of the change log (`compact_change_log`): superseded events go, and every
reader, wherever its cursor stood, still ends with what is true now."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from federation_api_data import make_service

from federation.models import RecordStatus
from frontend_api.models import ChangeEvent
from frontend_api.services import compact_change_log
from frontend_api.tasks import compact_change_log_task
from tests.factories.federation import SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"
WEEK = datetime.timedelta(days=7)


def event(kind: str, object_id: int, action: str = "upsert", *, lang: str = "", age_days: int = 30):
    created = ChangeEvent.objects.create(kind=kind, object_id=object_id, action=action, lang=lang)
    ChangeEvent.objects.filter(pk=created.pk).update(
        at=timezone.now() - datetime.timedelta(days=age_days)
    )
    return created


def remaining() -> list[tuple[str, int, str, str]]:
    return list(
        ChangeEvent.objects.order_by("id").values_list("kind", "object_id", "lang", "action")
    )


def read(client, *, since: str | None, state: dict, page_size: int = 2, pages: int | None = None):
    """Applies the feed from `since` to a mirror's `state`; returns the cursor it keeps."""
    params: dict[str, Any] = {"page_size": str(page_size)}
    while pages is None or pages > 0:
        if since is not None:
            params["since"] = since
        body = client.get(URL, params).json()
        for item in body["results"]:
            state[(item["kind"], item["id"], item["lang"])] = item["action"]
        since = body["meta"]["cursor"]
        pages = None if pages is None else pages - 1
        if not body["meta"]["has_more"]:
            break
    return since


def test_old_events_superseded_by_a_later_one_of_the_same_item_are_deleted():
    event("service", 1)
    latest_of_1 = event("service", 1, age_days=20)
    only_of_2 = event("service", 2, "delete")
    event("article", 7, lang="fi")
    event("article", 7, lang="sv")
    event("article", 7, "delete", lang="fi", age_days=10)

    deleted = compact_change_log(older_than=WEEK)

    assert deleted == 2
    assert remaining() == [
        ("service", 1, "", "upsert"),
        ("service", 2, "", "delete"),
        ("article", 7, "sv", "upsert"),
        ("article", 7, "fi", "delete"),
    ]
    assert ChangeEvent.objects.filter(pk__in=[latest_of_1.pk, only_of_2.pk]).count() == 2


def test_recent_events_are_kept_even_when_superseded():
    event("service", 1, age_days=3)
    event("service", 1, age_days=1)
    event("organization", 5, age_days=30)
    event("organization", 5, age_days=2)

    deleted = compact_change_log(older_than=WEEK)

    assert deleted == 1, "only the organisation's 30-day-old event is both old and superseded"
    assert [row[:2] for row in remaining()] == [
        ("service", 1),
        ("service", 1),
        ("organization", 5),
    ]


def test_every_reader_ends_where_it_would_have_without_compaction(client):
    source = SourceFactory()
    first, second, third = (make_service(source=source) for _ in range(3))
    gone = make_service(source=source, status=RecordStatus.WITHDRAWN)
    history = [first, second, gone, first, gone, third, second, first]
    for service in history:
        event("service", service.pk, "delete" if service is gone else "upsert")
    everything: dict = {}
    read(client, since=None, state=everything)
    # Mirrors that stopped after 0, 1, 2 or 3 pages of two events, before the compaction.
    mirrors = []
    for pages in range(4):
        state: dict = {}
        cursor = read(client, since=None, state=state, pages=pages) if pages else None
        mirrors.append((state, cursor))

    deleted = compact_change_log(older_than=WEEK)

    assert deleted == len(history) - 4
    for state, cursor in mirrors:
        read(client, since=cursor, state=state)
        assert state == everything
    assert everything == {
        ("service", first.pk, None): "upsert",
        ("service", second.pk, None): "upsert",
        ("service", third.pk, None): "upsert",
        ("service", gone.pk, None): "delete",
    }


def test_the_nightly_task_keeps_the_configured_days(settings):
    settings.PESA_CHANGES_COMPACT_AFTER_DAYS = 10
    event("service", 1, age_days=12)
    event("service", 1, age_days=11)
    event("service", 1, age_days=9)
    event("service", 1, age_days=8)

    assert compact_change_log_task() == 2
    assert ChangeEvent.objects.count() == 2


def test_beat_runs_the_compaction():
    entry = settings.CELERY_BEAT_SCHEDULE["compact-change-log"]
    assert entry["task"] == f"{compact_change_log_task.__module__}.compact_change_log_task"
