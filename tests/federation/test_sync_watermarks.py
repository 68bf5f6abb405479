"""Incremental watermarks come from the feed's own timestamps, minus an overlap window."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from federation.models import Service, SyncRun
from federation.sync.recency import source_time
from importers.base import ParsedRecord, RawItem, RecordError
from tests.federation.conftest import TEST_FORMAT, FingerprintedListImporter

pytestmark = pytest.mark.django_db


class ModifiedAfterImporter(FingerprintedListImporter):
    """Answers like a feed with `modified_after`: only items modified after `since`."""

    asked: list[str | None] = []

    def raw_items(self, document: bytes) -> Iterator[RawItem | ParsedRecord | RecordError]:
        type(self).asked.append(self.since)
        after = source_time(self.since)
        for raw in super().raw_items(document):
            modified = source_time(raw.item.get("data", {}).get("modified"))
            if after is None or modified is None or modified > after:
                yield raw


@pytest.fixture
def importer(monkeypatch, list_importer):
    from importers import registry

    monkeypatch.setitem(registry.IMPORTERS, TEST_FORMAT, ModifiedAfterImporter)
    monkeypatch.setattr(ModifiedAfterImporter, "asked", [])
    return ModifiedAfterImporter


def item(origin_id, modified):
    return {"id": origin_id, "data": {"name": {"fi": origin_id}, "modified": modified.isoformat()}}


def watermark(source):
    source.refresh_from_db()
    return datetime.fromisoformat(source.watermark)


def record_versions():
    with connection.cursor() as cursor:
        return cursor.execute(
            "SELECT id, xmin::text FROM federation_service ORDER BY id"
        ).fetchall()


def test_the_watermark_is_the_newest_timestamp_the_feed_gave(source, feed, sync, importer):
    now = timezone.now()
    feed.items = [item("a", now - timedelta(hours=3)), item("b", now - timedelta(hours=2))]

    run = sync(source)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED
    assert watermark(source) == now - timedelta(hours=2)


def test_the_next_incremental_asks_from_the_watermark_minus_ten_minutes(
    source, feed, sync, importer
):
    newest = timezone.now() - timedelta(hours=2)
    feed.items = [item("a", newest)]
    sync(source)

    sync(source, full=False)

    assert datetime.fromisoformat(importer.asked[-1]) == newest - timedelta(minutes=10)


def test_the_overlap_window_is_a_setting(source, feed, sync, importer, settings):
    settings.PESA_SYNC_WATERMARK_OVERLAP = 3600
    newest = timezone.now() - timedelta(hours=2)
    feed.items = [item("a", newest)]
    sync(source)

    sync(source, full=False)

    assert datetime.fromisoformat(importer.asked[-1]) == newest - timedelta(hours=1)


def test_re_reading_the_overlap_writes_no_row_and_counts_it_unchanged(source, feed, sync, importer):
    now = timezone.now()
    feed.items = [item("a", now - timedelta(hours=1)), item("b", now - timedelta(minutes=5))]
    sync(source)
    versions = record_versions()

    run = sync(source, full=False)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED
    assert (run.created, run.updated, run.withdrawn, run.unchanged) == (0, 0, 0, 1)
    assert record_versions() == versions, "no record row was rewritten"


def test_a_record_committed_at_the_feed_after_our_read_is_picked_up_by_the_next_run(
    source, feed, sync, importer
):
    """Clock skew, or a slow commit at the feed: the record's timestamp is earlier than our
    run's start, but it was not there when the run read the feed."""
    feed.items = [item("a", timezone.now() - timedelta(minutes=30))]
    first = sync(source, full=False)

    feed.items.append(item("late", first.started_at - timedelta(minutes=1)))
    second = sync(source, full=False)

    assert second.created == 1
    assert Service.objects.filter(source=source, origin_id="late").exists()


def test_an_unchanged_re_sync_keeps_the_watermark(source, feed, sync, importer):
    newest = timezone.now() - timedelta(hours=2)
    feed.items = [item("a", newest - timedelta(hours=1)), item("b", newest)]
    sync(source)

    run = sync(source)

    assert run.unchanged == 2
    assert watermark(source) == newest


def test_a_feed_clock_ahead_of_ours_never_moves_the_watermark_past_our_start(
    source, feed, sync, importer
):
    feed.items = [item("a", datetime(2099, 1, 1, tzinfo=UTC))]

    run = sync(source)

    assert watermark(source) == run.started_at


def test_a_feed_without_timestamps_gets_the_run_start_as_before(source, feed, sync, importer):
    feed.items = [{"id": "a", "name": "A"}]

    run = sync(source)

    assert watermark(source) == run.started_at
