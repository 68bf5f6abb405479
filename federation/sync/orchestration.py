"""The run: fetch, read, plan, apply and finish one source's sync, under its lease.

`sync_source` is the entry point (re-exported by `federation.sync`); what the run promises is
in the package's docstring.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator

import httpx
from django.db import transaction
from django.utils import timezone

from federation.exceptions import FeedRejected, SourceBusy, SourceUnavailable
from federation.models import PushPayload, Source, SyncRun
from federation.services.hooks import sync_completed
from federation.services.importing import (
    build_client,
    bundled_documents,
    importer_class,
    importer_options,
    is_file_url,
)
from federation.sync import pool, recency
from federation.sync.apply import apply_plan
from federation.sync.gc_pause import cyclic_gc_paused
from federation.sync.lifecycle import (
    acquire,
    advance_source,
    fail_interrupted_runs,
    finish_run,
    payload_done,
    queued_run,
    save_issues,
)
from federation.sync.locks import LockLost, SourceLock, source_lock
from federation.sync.plan import plan_run
from federation.sync.reading import FeedRead
from importers.base import (
    FeedMalformed,
    FeedUnavailable,
    Importer,
    ParsedRecord,
    RawItem,
    RecordError,
)

logger = logging.getLogger(__name__)


def sync_source(
    *,
    source: Source,
    trigger: str,
    full: bool = False,
    payload: PushPayload | None = None,
    transport: httpx.BaseTransport | None = None,
    redelivered: bool = False,
) -> SyncRun:
    """Sync one source and return its finished `SyncRun`.

    Raises `SourceUnavailable` (carrying the failed run) when the feed cannot be fetched,
    so a task can retry; `SourceBusy` when a pushed payload finds another run going on.
    A payload already applied by a finished run is not applied again (`lifecycle.py`).
    `transport` is for tests: a mock HTTP transport under the guarded client.
    """
    mode = SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL
    run = queued_run(source=source, trigger=trigger, mode=mode, payload=payload)
    if payload_done(run):
        return run
    lock = source_lock(source=source, run=run)
    if not acquire(lock=lock, run=run, redelivered=redelivered):
        if payload is not None:
            raise SourceBusy("another run of this source is in progress", run=run)
        return finish_run(run, SyncRun.Outcome.SKIPPED, "another run of this source is in progress")
    try:
        fail_interrupted_runs(source_id=source.pk, current=run)
        run.outcome = SyncRun.Outcome.RUNNING
        run.mode = mode
        run.started_at = timezone.now()
        run.save(update_fields=["outcome", "mode", "started_at"])
        with lock.heartbeat():
            return _run(
                source=source, run=run, full=full, payload=payload, transport=transport, lock=lock
            )
    finally:
        lock.release()


def _run(
    *,
    source: Source,
    run: SyncRun,
    full: bool,
    payload: PushPayload | None,
    transport: httpx.BaseTransport | None,
    lock: SourceLock,
) -> SyncRun:
    feed_read = FeedRead(source=source)
    started = time.perf_counter()
    try:
        importer, documents = _importer_for(
            source=source, run=run, full=full, payload=payload, transport=transport
        )
        if full:
            feed_read.load_existing()
        try:
            with cyclic_gc_paused():
                feed_read.read(
                    _items(importer, documents, feed_read=feed_read),
                    importer=importer,
                    keep_alive=lock.keep_alive,
                )
        finally:
            importer.http.close()
        logger.info(
            "sync run %s: read in %.1f s; %s unchanged items not parsed",
            run.pk,
            time.perf_counter() - started,
            feed_read.skipped,
        )
        feed_read.complete = full and importer.is_complete
        plan = plan_run(source=source, run=run, feed_read=feed_read)
        if plan.hold_reason:
            save_issues(run, feed_read.issues)
            return finish_run(run, plan.hold_outcome, plan.hold_reason, counts=feed_read.counts())
        lock.keep_alive(force=True)
        applying = time.perf_counter()
        with transaction.atomic():
            with cyclic_gc_paused():
                counts = apply_plan(source=source, run=run, plan=plan, feed_read=feed_read)
            save_issues(run, feed_read.issues)
            advance_source(
                source=source,
                run=run,
                full=feed_read.complete,
                payload=payload,
                feed_read=feed_read,
            )
            lock.keep_alive(force=True)  # still this run's lease: only then commit
            finish_run(run, SyncRun.Outcome.SUCCEEDED, plan.summary(), counts=counts)
            logger.info("sync run %s: applied in %.1f s", run.pk, time.perf_counter() - applying)
            if run.has_changes:
                transaction.on_commit(lambda: sync_completed(run=run))
        return run
    except FeedUnavailable as error:
        save_issues(run, feed_read.issues)
        finish_run(
            run, SyncRun.Outcome.FAILED, f"feed unavailable: {error}", counts=feed_read.counts()
        )
        raise SourceUnavailable(str(error), run=run) from error
    except FeedMalformed as error:
        save_issues(run, feed_read.issues)
        return finish_run(
            run, SyncRun.Outcome.FAILED, f"feed cannot be read: {error}", counts=feed_read.counts()
        )
    except (FeedRejected, LockLost) as error:
        return finish_run(run, SyncRun.Outcome.FAILED, str(error), counts=feed_read.counts())
    except Exception as error:
        finish_run(run, SyncRun.Outcome.FAILED, f"internal error: {type(error).__name__}: {error}")
        raise
    finally:
        feed_read.close()


def _importer_for(
    *,
    source: Source,
    run: SyncRun,
    full: bool,
    payload: PushPayload | None,
    transport: httpx.BaseTransport | None,
) -> tuple[Importer, Iterable[bytes] | None]:
    """The importer, plus the documents to parse when they are not fetched from the URL."""
    cls = importer_class(source.format)
    since = None if full else recency.since(source.watermark)
    http = build_client(source=source, transport=transport)
    importer = cls(url=source.url, http=http, since=since, options=importer_options(source=source))
    if payload is not None:
        return importer, [bytes(payload.body)]
    if source.is_push_only:
        http.close()
        raise FeedRejected("push-only source: nothing to fetch; push a feed to its endpoint")
    if is_file_url(source.url):
        return importer, bundled_documents(source.url)
    return importer, None


def _items(
    importer: Importer, documents: Iterable[bytes] | None, *, feed_read: FeedRead
) -> Iterator[RawItem | ParsedRecord | RecordError]:
    documents = importer.documents() if documents is None else documents
    if feed_read.loaded_all and type(importer).parse_raw is not Importer.parse_raw:
        # A full run knows every stored fingerprint up front: big feeds parse in workers.
        yield from pool.items(importer, documents, existing=feed_read.existing)
        return
    for document in documents:
        yield from importer.raw_items(document)
