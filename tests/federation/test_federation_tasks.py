import pytest
from django.conf import settings

from federation.exceptions import SourceUnavailable
from federation.models import Service, SyncRun
from federation.tasks import enqueue_due_sources_task, sync_source_task
from importers.base import FeedUnavailable

pytestmark = pytest.mark.django_db


def test_the_sync_task_runs_the_sync_for_a_source_id(source, feed, monkeypatch):
    from federation.sync import orchestration

    real = orchestration.build_client
    monkeypatch.setattr(
        orchestration,
        "build_client",
        lambda *, source, transport=None: real(source=source, transport=feed.transport),
    )
    feed.services("a")

    run_id = sync_source_task(source.pk, True, "manual")

    assert SyncRun.objects.get(pk=run_id).trigger == "manual"
    assert Service.objects.filter(source=source).count() == 1


def test_the_sync_task_for_a_deleted_source_does_nothing():
    assert sync_source_task(999_999) is None


def test_the_sync_task_retries_fetch_errors_only_with_capped_backoff_and_jitter():
    options = sync_source_task
    assert set(options.autoretry_for) == {SourceUnavailable, FeedUnavailable}
    assert options.retry_backoff and options.retry_jitter
    assert options.retry_backoff_max <= 3600
    assert options.max_retries == 5
    assert options.acks_late is True


def test_tasks_are_json_only_and_time_limited_below_the_visibility_timeout():
    assert settings.CELERY_TASK_SERIALIZER == "json"
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT
    assert visibility > settings.PESA_SYNC_HEARTBEAT_TIMEOUT
    assert settings.PESA_FEED_RUN_DEADLINE < settings.CELERY_TASK_SOFT_TIME_LIMIT


def test_beat_sends_the_enqueue_task_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["enqueue-due-sources"]
    assert entry["task"] == enqueue_due_sources_task.name
    assert entry["schedule"] == 60.0


def test_the_enqueue_task_queues_due_sources(source, monkeypatch):
    from federation import tasks

    sent = []
    monkeypatch.setattr(tasks.sync_source_task, "delay_on_commit", lambda *args: sent.append(args))

    assert enqueue_due_sources_task() == [source.pk]
    assert sent == [(source.pk, True, "schedule")]
